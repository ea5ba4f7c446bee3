"""Saving a failing example so that ``crosscheck check --replay`` reruns exactly it.

``save_failure(report, directory)`` writes two files:

- ``failure.npz``: arrays ``W1``, ``b1``, ..., ``WL``, ``bL``, ``X``, ``T`` in the suite's
  layout (W^(l) (S_l, S_{l-1}), b^(l) (S_l,), X (S_0, N), T (S_L, N)), in the dtype the
  function was handed (float64, or float32 under ``dtype="float32"``), exact;
- ``failure.json``: what they are — sizes, activations, loss, weight decay, the function's
  layout and weights, N, the precision asked for (``dtype``, null: as returned), the
  finding, the search's seed, the function's name if given.

``load_failure(path)`` reads either file (the other is found beside it by its suffix) and
returns the problem and the metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from crosscheck.ffnn import Layer, Network, validate
from crosscheck.oracle.layouts import Adapter
from crosscheck.oracle.report import CheckReport
from crosscheck.strategies import Problem

FORMAT = "crosscheck-failure/1"
"""The metadata's ``format`` field."""


def save_failure(
    report: CheckReport, directory: Path, *, function: str | None = None
) -> tuple[Path, Path]:
    """Write the report's failing example to DIRECTORY/failure.npz and failure.json.

    Args:
        report: a failing CheckReport (``report.example`` not None).
        directory: created if missing.
        function: how the function was named (e.g. ``"mymodule:backprop"``), for the record.

    Returns:
        (npz path, json path).

    Raises:
        ValueError: the report has no failing example.
        OSError: the directory or files cannot be written.
    """
    if report.example is None:
        raise ValueError("the report has no failing example to save")
    network, params, X, T = report.example
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {"X": np.asarray(X), "T": np.asarray(T)}
    for l, (W, b) in enumerate(params, start=1):
        arrays[f"W{l}"], arrays[f"b{l}"] = np.asarray(W), np.asarray(b)
    npz, meta = directory / "failure.npz", directory / "failure.json"
    np.savez(npz, **arrays)
    s = report.settings
    metadata = {
        "format": FORMAT,
        "function": function,
        "sizes": list(network.sizes),
        "activations": list(network.activations),
        "loss": network.loss,
        "weight_decay": network.weight_decay,
        "layout": s.layout,
        "weights": s.weights,
        "N": int(X.shape[1]),
        "dtype": s.dtype,
        "finding": {"kind": report.finding.kind, "message": report.finding.message},
        "seed": s.seed,
        "arrays": npz.name,
    }
    meta.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return npz, meta


def load_failure(path: Path) -> tuple[Problem, dict[str, Any]]:
    """Read a saved example from its .json or .npz file (the other beside it), or from the
    directory holding failure.json and failure.npz.

    Returns:
        (problem in the suite's layout, in its saved dtype and validated; the metadata
        dict).

    Raises:
        ValueError: a file missing or unreadable, not of this format (e.g. a ``--json``
            report), or arrays that do not fit the recorded network (``crosscheck.ffnn.validate``'s
            message).
        TypeError: arrays of a non-float dtype.
    """
    if path.is_dir():
        path = path / "failure.json"
    meta_path, npz_path = path.with_suffix(".json"), path.with_suffix(".npz")
    try:
        metadata = json.loads(meta_path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read {meta_path}: {error.strerror}") from None
    except ValueError:
        raise ValueError(f"{meta_path} is not JSON, so not a saved failure") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        what = (
            "a --json report"
            if isinstance(metadata, dict) and "examples_run" in metadata
            else "not a crosscheck failure file"
        )
        raise ValueError(
            f"{meta_path} is {what}, not a saved failure (format {FORMAT!r}, written by"
            " --save-failure DIR)"
        )
    try:
        with np.load(npz_path) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the saved arrays {npz_path}: {error}") from None
    try:
        network = Network(
            tuple(metadata["sizes"]),
            tuple(metadata["activations"]),
            metadata["loss"],
            metadata["weight_decay"],
        )
        Adapter(metadata["layout"], metadata["weights"])
        L = network.L
        params = [Layer(arrays[f"W{l}"], arrays[f"b{l}"]) for l in range(1, L + 1)]
        params, X, T = validate(network, params, arrays["X"], arrays["T"])
    except KeyError as error:
        raise ValueError(f"the saved example {path} lacks {error}") from None
    return Problem(network, params, X, T), metadata
