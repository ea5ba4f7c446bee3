"""crosscheck.oracle.layouts: layouts of other people's backprop (rows, in_out) and output
reading."""

import numpy as np
import pytest
from hypothesis import given

from crosscheck import vectorized
from crosscheck.ffnn import Layer, Network
from crosscheck.oracle.layouts import (
    Adapter,
    OutputError,
    Returned,
    call,
    check_shapes,
    unpack,
)
from crosscheck.strategies import networks, problems


def _read_only(a):
    a = np.array(a, dtype=np.float64)
    a.flags.writeable = False
    return a


NETWORK = Network((3, 2, 4), ("tanh", "identity"))
PARAMS = (
    Layer(_read_only(np.arange(6.0).reshape(2, 3)), _read_only([1.0, 2.0])),
    Layer(_read_only(np.arange(8.0).reshape(4, 2)), _read_only([0.0, 1.0, 2.0, 3.0])),
)
X = _read_only(np.arange(15.0).reshape(3, 5))
T = _read_only(np.ones((4, 5)))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"layout": "row"}, ValueError, "unknown layout 'row'; known: 'columns', 'rows'"),
        ({"weights": "io"}, ValueError, "unknown weights 'io'; known: 'out_in', 'in_out'"),
        ({"layout": 1}, TypeError, "layout must be a str"),
    ],
)
def test_adapter_rejects_bad_names(kwargs, error, match):
    with pytest.raises(error, match=match):
        Adapter(**kwargs)


def test_rows_layout_hands_over_X_and_T_transposed():
    _, _, X_rows, T_rows = Adapter(layout="rows").arguments(PARAMS, X, T)
    assert X_rows.shape == (5, 3) and T_rows.shape == (5, 4)
    np.testing.assert_array_equal(X_rows, X.T)


def test_in_out_weights_hand_over_W_transposed():
    Ws, bs, _, _ = Adapter(weights="in_out").arguments(PARAMS, X, T)
    assert [W.shape for W in Ws] == [(3, 2), (2, 4)]
    np.testing.assert_array_equal(Ws[1], PARAMS[1].W.T)
    np.testing.assert_array_equal(bs[0], [1.0, 2.0])


def test_handed_views_of_read_only_arrays_stay_read_only():
    Ws, bs, X_rows, T_rows = Adapter("rows", "in_out").arguments(PARAMS, X, T)
    assert not any(a.flags.writeable for a in [*Ws, *bs, X_rows, T_rows])


def test_unpack_two_tuple_has_no_loss():
    returned = unpack(([np.ones((2, 3))], [np.ones(2)]), Adapter())
    assert returned.J is None
    assert returned.grads[0].W.shape == (2, 3)


def test_unpack_three_tuple_reads_the_loss_as_float():
    returned = unpack((np.array([[0.25]]), [np.ones((2, 3))], [np.ones(2)]), Adapter())
    assert returned.J == 0.25 and isinstance(returned.J, float)


@pytest.mark.parametrize("shape", [(3,), (3, 1), (1, 3)], ids=["S", "S_by_1", "1_by_S"])
def test_unpack_flattens_bias_gradients_eq_2_15(shape):
    db = np.arange(3.0).reshape(shape)
    returned = unpack(([np.ones((3, 2))], [db]), Adapter())
    np.testing.assert_array_equal(returned.grads[0].b, [0.0, 1.0, 2.0])


def test_unpack_transposes_in_out_weight_gradients_back():
    dW = np.arange(6.0).reshape(3, 2)  # (S_0, S_1) in the in_out layout
    returned = unpack(([dW], [np.ones(2)]), Adapter(weights="in_out"))
    np.testing.assert_array_equal(returned.grads[0].W, dW.T)


def test_unpack_copies_so_later_writes_do_not_reach_the_result():
    dW = np.ones((2, 3))
    returned = unpack(([dW], [np.ones(2)]), Adapter())
    dW[0, 0] = 5.0
    assert returned.grads[0].W[0, 0] == 1.0


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.ones(3), "returned an array of shape \\(3,\\); expected a tuple"),
        (None, "returned a NoneType"),
        ((1, 2, 3, 4), "of 4 items"),
        (([np.ones(1)], [np.ones(1), np.ones(1)]), "dWs has 1 arrays but dbs has 2"),
        ((np.ones(2), [np.ones((1, 1))], [np.ones(1)]), "J \\(the returned loss\\) has shape"),
        (([np.ones(1) * 1j], [np.ones(1)]), "complex"),
        (([object()], [np.ones(1)]), "dtype object"),
        ((np.ones(1), [np.ones(1)]), "dWs is an array"),
    ],
    ids=["array", "None", "four", "lengths", "J_shape", "complex", "object", "dWs_array"],
)
def test_unpack_rejects_what_is_not_gradients(value, match):
    with pytest.raises(OutputError, match=match):
        unpack(value, Adapter())


def _grads(network):
    return tuple(Layer(np.zeros(w), np.zeros(b)) for w, b in network.param_shapes())


def test_check_shapes_accepts_the_network_shapes():
    check_shapes(Returned(None, _grads(NETWORK)), NETWORK, Adapter())


def test_check_shapes_names_a_missing_layer():
    with pytest.raises(OutputError, match="gradients for 1 layers; sizes \\(3, 2, 4\\) have L = 2"):
        check_shapes(Returned(None, _grads(NETWORK)[:1]), NETWORK, Adapter())


def test_check_shapes_states_the_weight_shape_in_the_in_out_layout():
    grads = list(_grads(NETWORK))
    grads[1] = Layer(np.zeros((4, 3)), grads[1].b)  # seen as (3, 4) by an in_out function
    with pytest.raises(OutputError, match=r"dWs\[1\].*shape \(3, 4\).*need \(2, 4\) with weights"):
        check_shapes(Returned(None, tuple(grads)), NETWORK, Adapter(weights="in_out"))


def test_check_shapes_names_a_wrong_bias_shape():
    grads = list(_grads(NETWORK))
    grads[0] = Layer(grads[0].W, np.zeros(5))
    with pytest.raises(OutputError, match=r"dbs\[0\] \(∂J/∂b\^\(1\)\) has shape \(5,\)"):
        check_shapes(Returned(None, tuple(grads)), NETWORK, Adapter())


def _rows_in_out(network):
    """vectorized, wrapped as a rows/in_out function returning (1, S) bias gradients."""

    def fn(Ws, bs, X, T):
        params = [Layer(W.T, b) for W, b in zip(Ws, bs, strict=True)]
        grads = vectorized.gradients(network, params, X.T, T.T)
        return [g.W.T for g in grads], [g.b[None, :] for g in grads]

    return fn


@given(problems(networks=networks(activations=("tanh", "relu", "identity"))))
def test_rows_in_out_round_trip_gives_the_suite_gradients_eqs_2_14_2_15(problem):
    network, params, X, T = problem
    adapter = Adapter("rows", "in_out")
    returned = unpack(call(_rows_in_out(network), adapter, params, X, T), adapter)
    check_shapes(returned, network, adapter)
    for ours, theirs in zip(
        vectorized.gradients(network, params, X, T), returned.grads, strict=True
    ):
        np.testing.assert_array_equal(theirs.W, ours.W)
        np.testing.assert_array_equal(theirs.b, ours.b)
