"""Determinism of ``crosscheck verify --json`` (DESIGN §5): the same seed gives byte-identical
JSON, within a process and across processes, apart from the wall times, which the JSON keeps
apart under ``timings``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crosscheck.cli.main import main

ARGV = ["verify", "--dataset", "iris", "--samples", "6", "--seed", "7", "--sizes", "4,3,3"]


def _verify_json(path: Path) -> bytes:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main([*ARGV, "--json", str(path)]) == 0
    return path.read_bytes()


def _without_timings(raw: bytes) -> bytes:
    """The JSON as written (indent=2) with the value of "timings" blanked; nothing else."""
    payload = json.loads(raw)
    payload["timings"] = None
    return (json.dumps(payload, indent=2, allow_nan=False) + "\n").encode()


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> bytes:
    return _verify_json(tmp_path_factory.mktemp("first") / "r.json")


def test_json_as_written_round_trips_exactly(first):
    # so that _without_timings changes nothing but the timings
    payload = json.loads(first)
    assert (json.dumps(payload, indent=2, allow_nan=False) + "\n").encode() == first


def test_same_seed_twice_in_one_process_is_byte_identical_apart_from_timings(first, tmp_path):
    assert _without_timings(_verify_json(tmp_path / "r.json")) == _without_timings(first)


def test_same_seed_in_another_process_is_byte_identical_apart_from_timings(first, tmp_path):
    path = tmp_path / "r.json"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    command = [sys.executable, "-m", "crosscheck", *ARGV, "--json", str(path)]
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=300)
    assert _without_timings(path.read_bytes()) == _without_timings(first)


def test_timings_are_only_under_timings(first):
    def keys(node: object) -> list[str]:
        if isinstance(node, dict):
            return [k for key, value in node.items() for k in (key, *keys(value))]
        if isinstance(node, list):
            return [k for item in node for k in keys(item)]
        return []

    payload = json.loads(first)
    del payload["timings"]
    assert [k for k in keys(payload) if "time" in k or "second" in k] == []


def test_timings_hold_wall_seconds(first):
    timings = json.loads(first)["timings"]
    assert timings["total"] > 0.0
