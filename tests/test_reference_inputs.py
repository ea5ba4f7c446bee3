"""The reference's own inputs: ``gradient_entry`` accepts read-only arrays, mutates nothing and
gives float64 results; clear errors for a bad form, layer, name or index (after
crosscheck.ffnn.validate's own). What every implementation's loss, gradients and backprop
promise (read-only inputs, no mutation, shapes, dtypes) is in tests/test_contract.py."""

import numpy as np
import pytest

from crosscheck import reference
from crosscheck.ffnn import Layer, Loss, Network, init_params
from crosscheck.ffnn import losses as ffnn_losses

NETWORK = Network((3, 2, 2), ("tanh", "relu"), weight_decay=0.1)


def make_problem(dtype=np.float64):
    rng = np.random.default_rng(5)
    params = init_params(NETWORK, seed=4, dtype=dtype)
    X = rng.normal(size=(3, 4)).astype(dtype)
    T = rng.normal(size=(2, 4)).astype(dtype)
    return params, X, T


def all_arrays(params, X, T):
    return [X, T, *(array for layer in params for array in layer)]


CALLS = {
    "gradient_entry-literal": lambda p, X, T: reference.gradient_entry(
        NETWORK, p, X, T, layer=1, name="W", index=(1, 2), form="literal"
    ),
    "gradient_entry-contracted": lambda p, X, T: reference.gradient_entry(
        NETWORK, p, X, T, layer=1, name="b", index=(0,)
    ),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_inputs_not_mutated(call):
    params, X, T = make_problem()
    before = [array.copy() for array in all_arrays(params, X, T)]
    call(params, X, T)
    for array, copy in zip(all_arrays(params, X, T), before, strict=True):
        np.testing.assert_array_equal(array, copy, strict=True)


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_read_only_inputs_give_the_same_results(call):
    params, X, T = make_problem()
    expected = call(params, X, T)
    for array in all_arrays(params, X, T):
        array.flags.writeable = False
    assert call(params, X, T) == expected


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_float32_inputs_give_float64_results_of_the_same_values(call):
    params32, X32, T32 = make_problem(np.float32)
    params64 = tuple(Layer(W.astype(np.float64), b.astype(np.float64)) for W, b in params32)
    from_32 = call(params32, X32, T32)
    assert type(from_32) is float
    assert from_32 == call(params64, X32.astype(np.float64), T32.astype(np.float64))


# --- bad input -------------------------------------------------------------------------
FORM_CALLS = {
    "gradients": lambda form, *problem: reference.gradients(NETWORK, *problem, form=form),
    "backprop": lambda form, *problem: reference.backprop(NETWORK, *problem, form=form),
    "gradient_entry": lambda form, *problem: reference.gradient_entry(
        NETWORK, *problem, layer=1, name="b", index=(0,), form=form
    ),
}


@pytest.mark.parametrize("form", ["Literal", "matrix", "", None, 1])
@pytest.mark.parametrize("call", FORM_CALLS.values(), ids=FORM_CALLS.keys())
def test_bad_form_raises_listing_both_forms(call, form):
    with pytest.raises(ValueError, match=r"form must be 'literal' or 'contracted'"):
        call(form, *make_problem())


@pytest.mark.parametrize("call", FORM_CALLS.values(), ids=FORM_CALLS.keys())
def test_validate_errors_come_before_the_form_check(call):
    params, X, T = make_problem()
    with pytest.raises(ValueError, match=r"X has shape \(2, 4\)"):
        call("no such form", params, X[:2], T)


def entry(**kwargs):
    arguments = {"layer": 1, "name": "W", "index": (0, 0)} | kwargs
    return reference.gradient_entry(NETWORK, *make_problem(), **arguments)


@pytest.mark.parametrize("layer", [0, 3, -1])
def test_gradient_entry_layer_out_of_range_names_range(layer):
    with pytest.raises(ValueError, match=r"layer must be in 1\.\.L = 1\.\.2"):
        entry(layer=layer)


@pytest.mark.parametrize("layer", [1.0, "1", True, None])
def test_gradient_entry_layer_not_an_integer_raises_type_error(layer):
    with pytest.raises(TypeError, match=r"layer must be an integer in 1\.\.L = 1\.\.2"):
        entry(layer=layer)


def test_gradient_entry_accepts_numpy_integers():
    params, X, T = make_problem()
    value = reference.gradient_entry(
        NETWORK, params, X, T, layer=np.int64(2), name="W", index=(np.int32(1), np.int64(0))
    )
    assert value == reference.gradients(NETWORK, params, X, T)[1].W[1, 0]


@pytest.mark.parametrize("name", ["w", "Z", "", None])
def test_gradient_entry_bad_name_raises(name):
    with pytest.raises(ValueError, match=r"name must be 'W' or 'b'"):
        entry(name=name)


@pytest.mark.parametrize(
    ("name", "index", "message"),
    [
        ("W", (0,), r"must be \(i, j\) with 0 <= i < 2, 0 <= j < 3"),
        ("W", (0, 0, 0), r"must be \(i, j\) with 0 <= i < 2, 0 <= j < 3"),
        ("b", (0, 0), r"must be \(i,\) with 0 <= i < 2"),
        ("b", (), r"must be \(i,\) with 0 <= i < 2"),
    ],
)
def test_gradient_entry_index_of_wrong_length_raises(name, index, message):
    with pytest.raises(ValueError, match=message):
        entry(name=name, index=index)


@pytest.mark.parametrize(
    ("layer", "name", "index", "message"),
    [
        (1, "W", (2, 0), r"outside W\^\(1\) of shape \(2, 3\): need 0 <= i < 2, 0 <= j < 3"),
        (1, "W", (0, 3), r"outside W\^\(1\) of shape \(2, 3\)"),
        (2, "W", (0, -1), r"outside W\^\(2\) of shape \(2, 2\): need 0 <= i < 2, 0 <= j < 2"),
        (2, "b", (2,), r"outside b\^\(2\) of shape \(2,\): need 0 <= i < 2"),
    ],
)
def test_gradient_entry_index_out_of_range_names_range(layer, name, index, message):
    with pytest.raises(ValueError, match=message):
        entry(layer=layer, name=name, index=index)


@pytest.mark.parametrize("index", [[0, 0], np.array([0, 0]), 0, (0.0, 1), (0, "1")])
def test_gradient_entry_index_not_a_tuple_of_integers_raises_type_error(index):
    with pytest.raises(TypeError, match=r"index"):
        entry(index=index)


@pytest.fixture
def unsupported_loss_network(monkeypatch):
    """A network whose loss ffnn knows but the reference does not write out."""
    other = Loss(
        "other_loss",
        lambda Z, A, T, xp: xp.sum(A - T),
        lambda A, T, xp: xp.sum(A - T),
        lambda A, T: np.ones_like(A),
        "-",
    )
    monkeypatch.setitem(ffnn_losses.LOSSES, "other_loss", other)
    return Network((3, 2, 2), ("tanh", "relu"), loss="other_loss")


@pytest.mark.parametrize("name", ["loss", "gradients", "backprop"])
def test_loss_the_reference_does_not_write_out_raises(unsupported_loss_network, name):
    with pytest.raises(
        NotImplementedError, match=r"binary_cross_entropy only, not loss 'other_loss'"
    ):
        getattr(reference, name)(unsupported_loss_network, *make_problem())
