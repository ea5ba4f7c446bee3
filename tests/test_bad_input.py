"""The bad-input catalogue (docs/bad-input.md, DESIGN §7) beyond the contract: what every
implementation's loss, gradients and backprop refuse (the same exception and message from
each, before any work) is in tests/test_contract.py; here, the reference's single entries
whose result overflows, and the Network construction and CLI cases not already in
tests/test_ffnn.py, test_losses.py and test_cli.py."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from crosscheck import reference
from crosscheck.cli.main import main
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params

IDENTITY = Network((2, 3, 1), ("identity", "identity"))


def _huge_problem(scale: float) -> tuple:
    params = tuple(Layer(W * scale, b) for W, b in init_params(IDENTITY, seed=3))
    return params, np.full((2, 2), scale), np.ones((1, 2))


@pytest.mark.parametrize("form", ["literal", "contracted"])
def test_section_7_gradient_entry_overflow_raises_value_error(form):
    with pytest.raises(ValueError, match=r"∂J/∂W\^\(1\) entry \(0, 0\) overflows"):
        reference.gradient_entry(
            IDENTITY, *_huge_problem(1e120), layer=1, name="W", index=(0, 0), form=form
        )


# --- Network construction (the rest is in tests/test_ffnn.py and test_losses.py) -------------

NETWORK_ERRORS = {
    "sizes-empty": (((), ()), {}, ValueError, r"at least S_0 and S_1 \(L >= 1\), got 0"),
    "sizes-not-a-sequence": ((5, ("tanh",)), {}, TypeError, r"sizes must be a sequence"),
    "sizes-string": (("3,2", ("tanh",)), {}, TypeError, r"sizes must be a sequence"),
    "width-nan": (((3, float("nan")), ("tanh",)), {}, TypeError, r"S_1 = sizes\[1\]"),
    "width-inf": (((3, float("inf")), ("tanh",)), {}, TypeError, r"S_1 = sizes\[1\]"),
    "width-complex": (((3, 2j), ("tanh",)), {}, TypeError, r"S_1 = sizes\[1\]"),
    "activation-not-a-str": (((3, 2), (None,)), {}, TypeError, r"activation name must be a str"),
    "activations-None": (((3, 2), None), {}, TypeError, r"not iterable"),
    "loss-not-a-str": (((3, 2), ("tanh",)), {"loss": 2}, TypeError, r"loss name must be a str"),
    "weight-decay-string": (
        ((3, 2), ("tanh",)),
        {"weight_decay": "0.1"},
        TypeError,
        r"weight_decay must be a real number",
    ),
    "weight-decay-int-beyond-float": (
        ((3, 2), ("tanh",)),
        {"weight_decay": 10**400},
        ValueError,
        r"weight_decay must be finite and >= 0",
    ),
}


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"), NETWORK_ERRORS.values(), ids=NETWORK_ERRORS.keys()
)
def test_network_construction_error(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Network(*args, **kwargs)


def test_network_unknown_activation_lists_every_known_one():
    with pytest.raises(ValueError) as raised:
        Network((3, 2), ("swish",))
    assert all(f"{name}" in str(raised.value) for name in ACTIVATIONS)


# --- CLI: one line on stderr, exit 2 (the rest is in tests/test_cli.py) ----------------------


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


CLI_ERRORS = {
    "sizes-negative": (["verify", "--sizes", "4,-3,3"], "comma-separated positive integers"),
    "sizes-fractional": (["verify", "--sizes", "4,2.5,3"], "comma-separated positive integers"),
    "sizes-empty": (["verify", "--sizes", ""], "comma-separated positive integers"),
    "sizes-input-does-not-fit": (["verify", "--dataset", "iris", "--sizes", "5,8,3"], "iris"),
    "loss-does-not-fit-output": (
        ["verify", "--dataset", "iris", "--loss", "cross_entropy", "--activations", "tanh,tanh"],
        "needs a softmax output layer",
    ),
    "weight-decay-not-a-number": (["verify", "--weight-decay", "lots"], "expected a number"),
    "weight-decay-inf": (["verify", "--weight-decay", "inf"], "must be finite and >= 0"),
    "samples-not-an-integer": (["verify", "--samples", "2.5"], "expected an integer"),
}


@pytest.mark.parametrize(("argv", "message"), CLI_ERRORS.values(), ids=CLI_ERRORS.keys())
def test_cli_usage_error_is_one_line_exit_2_no_traceback(argv, message):
    status, out, err = _run(argv)
    assert (status, out, err.count("\n"), message in err, "Traceback" in err) == (
        2,
        "",
        1,
        True,
        False,
    )


def test_cli_json_path_that_is_a_file_in_place_of_a_directory(tmp_path):
    (tmp_path / "file").write_text("")
    status, out, err = _run(["verify", "--json", str(tmp_path / "file" / "r.json")])
    assert (status, out, err.count("\n"), "is not a directory" in err) == (2, "", 1, True)


CHECK_IMPORT_ERRORS = {
    "syntax-error": ("def f(:\n", "cannot import {name}: SyntaxError"),
    "exit-at-import": ("import sys\nsys.exit(3)\n", "cannot import {name}: SystemExit: 3"),
    "keyerror-at-import": ("{}['x']\n", "cannot import {name}: KeyError: 'x'"),
}


@pytest.mark.parametrize(
    ("source", "message"), CHECK_IMPORT_ERRORS.values(), ids=CHECK_IMPORT_ERRORS.keys()
)
def test_cli_check_module_that_cannot_be_imported_is_one_line_exit_2(tmp_path, source, message):
    path = tmp_path / "unimportable_user_module.py"
    path.write_text(source)
    status, out, err = _run(["check", f"{path}:backprop", "--activations", "tanh"])
    expected = message.format(name=path)
    assert (status, out, err.count("\n"), expected in err, "Traceback" in err) == (
        2,
        "",
        1,
        True,
        False,
    )
