"""crosscheck.autodiff_oracle.padded: problems zero-padded into a shape envelope (one compilation
serves
every network of a depth), and padding that leaves the real entries' values unchanged."""

import jax
import numpy as np
import pytest

from crosscheck import autodiff_oracle, vectorized
from crosscheck.autodiff_oracle.objective import objective
from crosscheck.autodiff_oracle.padded import GRAIN, SMALL, Envelope, pad, unpad
from crosscheck.compare.comparison import compare_backprop
from crosscheck.ffnn import Layer, Network, init_params


def _problem(sizes, N, activations=None, loss="squared_error", seed=0):
    network = Network(sizes, activations or ("tanh",) * (len(sizes) - 1), loss=loss)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], N))
    T = rng.standard_normal((sizes[-1], N))
    return network, init_params(network, seed=seed), X, T


@pytest.mark.parametrize(
    ("sizes", "N", "envelope"),
    [
        ((1, 1), 1, Envelope((8, 8, 8, 8, 8), 8)),
        ((8, 9, 16), 8, Envelope((8, 16, 16, 16, 16), 8)),
        ((3, 17, 2), 9, Envelope((8, 24, 8, 8, 8), 16)),
        ((2, 3, 3, 3, 3, 3), 4, Envelope((2, 3, 3, 3, 3, 3), 4, ((2,) * 5, 0))),
    ],
)
def test_envelope_rounds_widths_N_and_depth_up_or_keeps_a_deep_problem_exact(sizes, N, envelope):
    assert pad(*_problem(sizes, N)).envelope == envelope


@pytest.mark.parametrize(("sizes", "N"), [((SMALL + 1, 2), 3), ((2, 3), SMALL + 1)])
def test_beyond_SMALL_the_envelope_is_exact_with_sigma_and_J_compiled_in(sizes, N):
    network = Network(sizes, ("softplus",), loss="squared_error")
    _, params, X, T = _problem(sizes, N)
    assert pad(network, params, X, T).envelope == Envelope(sizes, N, ((5,), 0))


def test_beyond_SMALL_the_arrays_are_passed_as_they_are():
    network, params, X, T = _problem((SMALL + 1, 2), 3)
    padded = pad(network, params, X, T)
    assert (padded.params, padded.X, padded.T, padded.spec.active) == (params, X, T, None)


def test_padded_arrays_have_the_envelope_shapes():
    padded = pad(*_problem((3, 17, 2), 9))
    shapes = [(W.shape, b.shape) for W, b in padded.params]
    assert shapes == [((24, 8), (24,)), ((8, 24), (8,)), ((8, 8), (8,)), ((8, 8), (8,))]
    assert (padded.X.shape, padded.T.shape) == ((8, 16), (8, 16))


@pytest.mark.parametrize("name", ["W", "b"])
def test_params_keep_their_real_block_and_are_zero_elsewhere(name):
    network, params, X, T = _problem((3, 5, 2), 4)
    padded = pad(network, params, X, T)
    for l, (layer, padded_layer) in enumerate(zip(params, padded.params[:2], strict=True), 1):
        real, full = getattr(layer, name), getattr(padded_layer, name)
        block = tuple(slice(0, n) for n in real.shape)
        np.testing.assert_array_equal(full[block], real, err_msg=f"{name}^({l})")
        assert np.count_nonzero(full) == np.count_nonzero(real), f"{name}^({l})"
    # the pass-through layers l = 3, 4 beyond L = 2 are all zeros
    assert not any(getattr(layer, name).any() for layer in padded.params[2:])


def test_X_padded_columns_repeat_the_first_and_padded_rows_are_zero():
    network, params, X, T = _problem((3, 2), 5)
    padded = pad(network, params, X, T)
    np.testing.assert_array_equal(padded.X[:3, :5], X)
    np.testing.assert_array_equal(padded.X[:3, 5:], np.repeat(X[:, :1], GRAIN - 5, axis=1))
    np.testing.assert_array_equal(padded.X[3:], 0.0)


def test_T_is_zero_outside_its_real_block():
    network, params, X, T = _problem((3, 2), 5)
    padded = pad(network, params, X, T)
    np.testing.assert_array_equal(padded.T[:2, :5], T)
    assert np.count_nonzero(padded.T) == np.count_nonzero(T)


def test_spec_masks_mark_the_real_rows_and_columns():
    spec = pad(*_problem((3, 5, 2), 4)).spec
    # layers 3 and 4 pass layer 2 through: their real rows are its S_2 = 2 output rows
    assert [int(rows.sum()) for rows in spec.rows] == [3, 5, 2, 2, 2]
    assert all(rows[: int(rows.sum())].all() for rows in spec.rows)
    assert (int(spec.columns.sum()), bool(spec.columns[3]), bool(spec.columns[4])) == (
        4,
        True,
        False,
    )


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("activations", [1, 8, 0, 0]),
        ("loss", 1),
        ("lam", 0.25),
        ("N", 4.0),
        ("active", [True, True, False, False]),
    ],
)
def test_spec_carries_sigma_J_lambda_N_and_the_real_layers(field, expected):
    network = Network((3, 5, 2), ("sigmoid", "softmax"), loss="cross_entropy", weight_decay=0.25)
    _, params, X, _ = _problem((3, 5, 2), 4)
    T = np.full((2, 4), 0.5)
    np.testing.assert_array_equal(getattr(pad(network, params, X, T).spec, field), expected)


def test_pad_does_not_change_its_inputs():
    problem = _problem((3, 5, 2), 4)
    before = [a.copy() for layer in problem[1] for a in layer] + [
        problem[2].copy(),
        problem[3].copy(),
    ]
    pad(*problem)
    after = [a for layer in problem[1] for a in layer] + [problem[2], problem[3]]
    assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))


def test_unpad_is_a_writable_contiguous_copy_of_the_real_block():
    full = np.arange(24.0).reshape(3, 8)
    block = unpad(full, 2, 5)
    np.testing.assert_array_equal(block, full[:2, :5])
    assert block.flags.c_contiguous and block.flags.writeable and not np.shares_memory(block, full)


# Padded rows must drop out of a softmax whatever the real logits: a fill value finite but
# "far negative" (−max/4) once won the softmax when every real logit of a column was below it.


def _far_negative_softmax(loss, dtype):
    if loss == "cross_entropy":  # softmax output, every logit −1e308 (or −3e38 in float32)
        network = Network((1, 3), ("softmax",), loss="cross_entropy")
        b = np.full(3, np.finfo(dtype).min / 1.8)
        params = (Layer(np.zeros((3, 1), dtype), b.astype(dtype)),)
        T = np.zeros((3, 2), dtype)
        T[0] = 1.0
    else:  # hidden softmax, logits −1e308, −1e308, −9e307
        network = Network((1, 3, 1), ("softmax", "identity"))
        b = np.array([1.0, 1.0, 0.9]) * np.finfo(dtype).min / 1.8
        params = (
            Layer(np.zeros((3, 1), dtype), b.astype(dtype)),
            Layer(np.array([[1.0, 2.0, 3.0]], dtype), np.zeros(1, dtype)),
        )
        T = np.zeros((1, 2), dtype)
    return network, params, np.ones((1, 2), dtype), T


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_eqs_2_2_prime_2_16_prime_padded_rows_leave_a_far_negative_softmax_exact(loss, dtype):
    problem = _far_negative_softmax(loss, dtype)
    expected_loss, expected = vectorized.loss(*problem), vectorized.backprop(*problem)
    comparison = compare_backprop(
        *problem,
        expected,
        autodiff_oracle.backprop(*problem),
        expected_loss=expected_loss,
        actual_loss=autodiff_oracle.loss(*problem),
    )
    assert comparison.agree, comparison.first_mismatch


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eq_2_2_prime_far_negative_hidden_softmax_output_is_one_hot(dtype):
    _, trace = autodiff_oracle.backprop(*_far_negative_softmax("squared_error", dtype))
    np.testing.assert_array_equal(trace.A[1], [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])


# Padding adds only exact zeros: on a problem whose arithmetic is exact (small integers and
# halves, identity σ), the padded oracle equals the exact-shape jax.grad bit for bit.


@pytest.mark.parametrize(
    ("sizes", "N"),
    [((1, 1, 1), 1), ((8, 9, 2), 8), ((2, 3, 9), 4), ((3, 17, 2), 16), ((SMALL + 1, 3, 2), 4)],
)
def test_eqs_1_4_2_16_padding_leaves_J_and_gradients_exact(sizes, N):
    network = Network(sizes, ("identity",) * (len(sizes) - 1), weight_decay=0.5)
    rng = np.random.default_rng(3)
    params = tuple(
        Layer(rng.integers(-2, 3, w) / 2, rng.integers(-2, 3, b) / 2)
        for w, b in network.param_shapes()
    )
    X = rng.integers(-2, 3, (sizes[0], N)) / 2
    T = rng.integers(-2, 3, (sizes[-1], N)) / 2
    with jax.enable_x64(True):
        J, grads = jax.value_and_grad(lambda p: objective(network, p, X, T)[0])(params)
    assert autodiff_oracle.loss(network, params, X, T) == float(J)
    for (W, b), (eW, eb) in zip(
        autodiff_oracle.gradients(network, params, X, T), grads, strict=True
    ):
        np.testing.assert_array_equal(W, eW)
        np.testing.assert_array_equal(b, eb)


@pytest.mark.parametrize("function", [autodiff_oracle.loss, autodiff_oracle.gradients])
def test_float32_weight_decay_beyond_float32_is_an_overflow_error_without_warning(function):
    network = Network((1, 1), ("identity",), weight_decay=1e39)
    params = (Layer(np.ones((1, 1), np.float32), np.zeros(1, np.float32)),)
    X = T = np.ones((1, 2), np.float32)
    with pytest.raises(ValueError, match="overflow"):
        function(network, params, X, T)


def test_eq_1_4_each_activation_branch_is_traced_once_for_every_layer_of_one_shape(monkeypatch):
    # The switch branches are built once (objective.ACTIVATION_BRANCHES), so JAX's tracing
    # cache serves all four layers of the (8, 8) envelope: one trace per branch, not four.
    from crosscheck.autodiff_oracle import objective as objective_module

    calls = {}

    def counted(i, branch):
        def wrapper(Z, rows):
            calls[i] = calls.get(i, 0) + 1
            return branch(Z, rows)

        return wrapper

    branches = tuple(counted(i, b) for i, b in enumerate(objective_module.ACTIVATION_BRANCHES))
    monkeypatch.setattr(objective_module, "ACTIVATION_BRANCHES", branches)
    problem = pad(*_problem((3, 4, 2), 5, ("tanh", "softmax")))
    with jax.enable_x64(True):
        jax.make_jaxpr(objective_module.padded_objective)(*problem[1:])
    assert calls == dict.fromkeys(range(len(branches)), 1)
