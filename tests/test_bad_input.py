"""The bad-input catalogue (docs/bad-input.md, DESIGN §7): every implementation's loss,
gradients and backprop refuse each class of bad input with crosscheck.ffnn.validate's exception and
a message naming the array and its layer, before any work; finite inputs whose results
overflow the float range are a ValueError too (crosscheck.ffnn.overflow). Network construction and
CLI
cases not already in tests/test_ffnn.py, test_losses.py and test_cli.py are here."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params
from entry_points import CALLS

from crosscheck import autodiff_oracle, reference
from crosscheck.cli.main import main

NETWORK = Network((3, 4, 2), ("tanh", "sigmoid"))  # W^(1) (4, 3), W^(2) (2, 4); N = 5


def _arrays() -> dict[str, np.ndarray]:
    """Fresh arrays of a valid problem of NETWORK: W1, b1, W2, b2, X, T."""
    params = init_params(NETWORK, seed=0)
    rng = np.random.default_rng(1)
    return {
        "W1": params[0].W,
        "b1": params[0].b,
        "W2": params[1].W,
        "b2": params[1].b,
        "X": rng.standard_normal((3, 5)),
        "T": rng.uniform(0.0, 1.0, (2, 5)),
    }


def _problem(arrays: dict[str, np.ndarray]) -> tuple:
    params = [Layer(arrays["W1"], arrays["b1"]), Layer(arrays["W2"], arrays["b2"])]
    return params, arrays["X"], arrays["T"]


def _replaced(name: str, value: object) -> Callable[[], tuple]:
    def make() -> tuple:
        arrays = _arrays()
        arrays[name] = value(arrays[name]) if callable(value) else value
        return _problem(arrays)

    return make


def _entry(name: str, index: tuple[int, ...], value: float) -> Callable[[], tuple]:
    def set_entry(array: np.ndarray) -> np.ndarray:
        array = array.copy()
        array[index] = value
        return array

    return _replaced(name, set_entry)


def _layers(count: int) -> Callable[[], tuple]:
    def make() -> tuple:
        params, X, T = _problem(_arrays())
        return [*params, *params][:count], X, T

    return make


BAD_INPUTS = {
    # shapes, named by layer
    "W2-shape": (_replaced("W2", np.zeros((4, 2))), ValueError, r"W\^\(2\) \(params\[1\]\.W\)"),
    "W1-transposed": (
        _replaced("W1", lambda W: W.T),
        ValueError,
        r"W\^\(1\) \(params\[0\]\.W\) has shape \(3, 4\).*need \(S_1, S_0\) = \(4, 3\)",
    ),
    "b1-shape": (_replaced("b1", np.zeros(3)), ValueError, r"b\^\(1\) \(params\[0\]\.b\)"),
    "b2-column": (_replaced("b2", np.zeros((2, 1))), ValueError, r"b\^\(2\) .*\(2, 1\)"),
    "too-few-layers": (_layers(1), ValueError, r"params has 1 layers.*L = 2"),
    "too-many-layers": (_layers(3), ValueError, r"params has 3 layers.*L = 2"),
    "X-width": (_replaced("X", np.zeros((2, 5))), ValueError, r"X has shape \(2, 5\).*\(3, N\)"),
    "T-width": (_replaced("T", np.zeros((3, 5))), ValueError, r"T has shape \(3, 5\).*\(2, N\)"),
    "different-N": (_replaced("T", np.zeros((2, 4))), ValueError, r"X has N = 5.*T has 4"),
    "N-zero": (
        lambda: _problem({**_arrays(), "X": np.zeros((3, 0)), "T": np.zeros((2, 0))}),
        ValueError,
        r"X has N = 0 samples",
    ),
    # non-finite values, named by array, layer and index
    "W2-nan": (_entry("W2", (1, 3), np.nan), ValueError, r"W\^\(2\) .*non-finite.*\(1, 3\)"),
    "b1-inf": (_entry("b1", (2,), np.inf), ValueError, r"b\^\(1\) .*non-finite value inf.*\(2,\)"),
    "X-minus-inf": (_entry("X", (0, 4), -np.inf), ValueError, r"X contains .*-inf.*\(0, 4\)"),
    "T-nan": (_entry("T", (1, 0), np.nan), ValueError, r"T contains .*nan.*\(1, 0\)"),
    # dtypes
    "X-complex": (
        _replaced("X", lambda X: X.astype(complex)),
        TypeError,
        r"X has dtype complex128 \(complex\)",
    ),
    "W1-object": (
        _replaced("W1", lambda W: W.astype(object)),
        TypeError,
        r"W\^\(1\) \(params\[0\]\.W\) has dtype object",
    ),
    "b2-integer": (
        _replaced("b2", np.zeros(2, dtype=np.int64)),
        TypeError,
        r"b\^\(2\) \(params\[1\]\.b\) has dtype int64 \(integer\)",
    ),
    "T-bool": (_replaced("T", np.ones((2, 5), dtype=bool)), TypeError, r"T has dtype bool"),
    "X-float16": (
        _replaced("X", lambda X: X.astype(np.float16)),
        TypeError,
        r"X has dtype float16 \(a float width other than 32 or 64 bits\); float64 or float32",
    ),
    "W2-float32-mixed": (
        _replaced("W2", lambda W: W.astype(np.float32)),
        TypeError,
        r"one float dtype.*W\^\(2\) \(params\[1\]\.W\): float32",
    ),
    "b1-ragged-list": (
        _replaced("b1", [[1.0], [2.0, 3.0]]),
        TypeError,
        r"b\^\(1\) \(params\[0\]\.b\) cannot be read as an array",
    ),
    "W1-None": (_replaced("W1", None), TypeError, r"W\^\(1\) \(params\[0\]\.W\) has dtype object"),
    # number of dimensions
    "X-1d": (_replaced("X", np.zeros(3)), ValueError, r"X has 1 dimensions"),
    "T-3d": (_replaced("T", np.zeros((2, 5, 1))), ValueError, r"T has 3 dimensions"),
    "W1-3d": (
        _replaced("W1", np.zeros((4, 3, 1))),
        ValueError,
        r"W\^\(1\) \(params\[0\]\.W\) has shape \(4, 3, 1\)",
    ),
    "b2-scalar": (_replaced("b2", np.float64(0.0)), ValueError, r"b\^\(2\) .*has shape \(\)"),
}
"""id -> (make problem, exception type, message regex naming the array and its layer)."""

CASES = [
    pytest.param(bad, call, id=f"{bad_id}-{call_id}")
    for bad_id, bad in BAD_INPUTS.items()
    for call_id, call in CALLS.items()
]


@pytest.mark.parametrize(("bad", "call"), CASES)
def test_section_7_bad_input_raises_the_same_error_in_every_implementation(bad, call):
    make, error, message = bad
    with pytest.raises(error, match=message):
        call(NETWORK, *make())


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_section_7_bad_input_leaves_the_inputs_unchanged(call):
    params, X, T = _problem(_arrays())
    X = X.copy()
    X[0, 0] = np.nan
    before = [a.copy() for a in (X, T, *params[0], *params[1])]
    with pytest.raises(ValueError, match="non-finite"):
        call(NETWORK, params, X, T)
    for got, want in zip((X, T, *params[0], *params[1]), before, strict=True):
        np.testing.assert_array_equal(got, want, strict=True)


# --- finite inputs whose results overflow the float range (crosscheck.ffnn.overflow)
# -------------------

IDENTITY = Network((2, 3, 1), ("identity", "identity"))


def _huge_problem(scale: float) -> tuple:
    params = tuple(Layer(W * scale, b) for W, b in init_params(IDENTITY, seed=3))
    return params, np.full((2, 2), scale), np.ones((1, 2))


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_section_7_finite_inputs_that_overflow_raise_value_error(call):
    # Z^(2) = W^(2) (W^(1) X + b^(1)) + b^(2) ~ 1e300 · 1e300 · 1e300: beyond float64.
    with pytest.raises(ValueError, match="overflows the float range"):
        call(IDENTITY, *_huge_problem(1e300))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(partial(reference.backprop, form="literal"), id="reference-literal"),
        pytest.param(reference.backprop, id="reference-contracted"),
        pytest.param(autodiff_oracle.backprop, id="autodiff"),
    ],
)
def test_section_7_overflow_names_the_first_quantity_eq_1_4_Z_2(call):
    with pytest.raises(ValueError, match=r"^Z\^\(2\) overflows"):
        call(IDENTITY, *_huge_problem(1e120))


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
