"""autodiff_oracle/: what is specific to jax.grad of the forward definitions (eqs 1.4, 2.16) —
agreement with the matrix form on every activation, x64 scoping, the jit cache, subnormals
flushed by XLA, products at HIGHEST precision. The contract it shares with every
implementation (shapes, dtypes, inputs, hand-worked values, bad input) is
tests/test_contract.py."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crosscheck import autodiff_oracle, vectorized
from crosscheck.autodiff_oracle.compiled import compiled
from crosscheck.autodiff_oracle.padded import Envelope, pad
from crosscheck.ffnn import ACTIVATIONS, Layer, Network, init_params, validate

from helpers.results import leaves

ARCHITECTURES = {
    # L = 3 with a width-1 bottleneck, N = 5.
    "L3_bottleneck": ((3, 4, 1, 2), 0.0, 5),
    # L = 1 with weight decay and a single sample.
    "L1_decay_N1": ((2, 3), 0.25, 1),
}


def _random_problem(activation, architecture, seed):
    sizes, lam, N = ARCHITECTURES[architecture]
    network = Network(sizes, (activation,) * (len(sizes) - 1), weight_decay=lam)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], N))
    T = rng.standard_normal((sizes[-1], N))
    return network, init_params(network, seed=seed), X, T


_AGREEMENT = dict(rtol=1e-10, atol=1e-12)


# These agreements go through backprop, so they share its compilation; `gradients` is tied to
# backprop's grads by tests/test_contract.py::test_gradients_equal_backprop_grads.
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_eq_2_7_2_11_gradients_agree_with_vectorized(activation, architecture, seed):
    problem = _random_problem(activation, architecture, seed)
    got, _ = autodiff_oracle.backprop(*problem)
    for a, v in zip(leaves(got), leaves(vectorized.gradients(*problem)), strict=True):
        np.testing.assert_allclose(a, v, **_AGREEMENT)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("field", ["Z_eq_1_4", "A_eq_1_4", "Delta_eq_2_21_2_32", "H_eq_2_13_2_34"])
def test_trace_agrees_with_vectorized(activation, architecture, seed, field):
    problem = _random_problem(activation, architecture, seed)
    name = field.split("_")[0]
    got = getattr(autodiff_oracle.backprop(*problem)[1], name)
    want = getattr(vectorized.backprop(*problem)[1], name)
    for l, (a, v) in enumerate(zip(got, want, strict=True)):
        if v is None:
            assert a is None, f"{name}[{l}]"
        else:
            np.testing.assert_allclose(a, v, **_AGREEMENT, err_msg=f"{name}[{l}]")


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_eq_2_16_loss_agrees_with_vectorized(activation):
    problem = _random_problem(activation, "L3_bottleneck", seed=1)
    expected = vectorized.loss(*problem)
    assert autodiff_oracle.loss(*problem) == pytest.approx(expected, rel=1e-12)


SIZES = (3, 4, 1, 2)
N = 5


def _problem(dtype):
    network = Network(SIZES, ("tanh", "relu", "sigmoid"), weight_decay=0.1)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((SIZES[0], N)).astype(dtype)
    T = rng.standard_normal((SIZES[-1], N)).astype(dtype)
    return network, init_params(network, seed=3, dtype=dtype), X, T


FUNCTIONS = [
    pytest.param(autodiff_oracle.loss, id="loss_eq_2_16"),
    pytest.param(autodiff_oracle.gradients, id="gradients_eq_2_7_2_11"),
    pytest.param(autodiff_oracle.backprop, id="backprop_eq_2_32"),
]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_x64_flag_unchanged_after_call(function):
    before = jax.config.jax_enable_x64
    function(*_problem(np.float64))
    assert jax.config.jax_enable_x64 == before


@pytest.mark.parametrize("function", FUNCTIONS)
def test_host_without_x64_keeps_float32(function):
    with jax.enable_x64(False):
        host = jnp.ones(3, dtype=jnp.float32)
        function(*_problem(np.float64))
        assert (host * 2.0).dtype == jnp.float32
        assert jnp.asarray(np.ones(2)).dtype == jnp.float32


@pytest.mark.parametrize("function", FUNCTIONS)
def test_host_with_x64_keeps_x64(function):
    with jax.enable_x64(True):
        function(*_problem(np.float32))
        assert jnp.asarray(np.ones(2)).dtype == jnp.float64


@pytest.mark.parametrize("field", ["Z", "A", "Delta", "H"])
def test_float64_without_host_x64_agrees_with_vectorized(field):
    with jax.enable_x64(False):
        _, trace = autodiff_oracle.backprop(*_problem(np.float64))
    _, expected = vectorized.backprop(*_problem(np.float64))
    for a, v in zip(getattr(trace, field), getattr(expected, field), strict=True):
        if v is not None:
            assert a.dtype == np.float64
            np.testing.assert_allclose(a, v, **_AGREEMENT)


@pytest.fixture
def compile_events():
    """XLA compilations reported through jax.monitoring while the test runs."""
    events = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield events
    jax.monitoring.unregister_event_duration_listener(listener)


def test_compiled_is_cached_per_envelope_and_dtype():
    first = compiled(Envelope((8, 8, 8), 8), np.dtype(np.float64))
    # An equal envelope built anew is the same cache key.
    assert compiled(Envelope((8, 8, 8), 8), np.dtype(np.float64)) is first


def test_compiled_differs_per_dtype():
    envelope = Envelope((8, 8, 8), 8)
    assert compiled(envelope, np.dtype(np.float32)) is not compiled(envelope, np.dtype(np.float64))


def _envelope_problem(seed, sizes, activations, loss, weight_decay, N):
    """A problem in the envelope (24, 16, 8), N' = 16, which no other test uses."""
    network = Network(sizes, activations, loss=loss, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], N))
    T = {
        "squared_error": rng.standard_normal((sizes[-1], N)),
        "binary_cross_entropy": rng.uniform(0.0, 1.0, (sizes[-1], N)),
    }[loss]
    return network, init_params(network, seed=seed), X, T


def test_one_compilation_serves_every_network_and_function_of_an_envelope(compile_events):
    # Widths, N, every σ_l, J and λ differ; depth and padded shapes (24, 16, 8), 16 agree;
    # loss, gradients and backprop share the padded envelope's one compilation.
    autodiff_oracle.loss(
        *_envelope_problem(1, (17, 9, 3), ("softplus", "gelu"), "squared_error", 0.125, 9)
    )
    assert compile_events, "the first call was expected to compile"
    compile_events.clear()
    problem = _envelope_problem(
        2, (23, 16, 8), ("softmax", "sigmoid"), "binary_cross_entropy", 0.0, 16
    )
    for function in (autodiff_oracle.loss, autodiff_oracle.gradients, autodiff_oracle.backprop):
        function(*problem)
    assert compile_events == []


@pytest.mark.parametrize("N", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eq_2_21pp_delta_L_underflowed_sigmoid_is_minus_inf_not_nan(dtype, N):
    # sizes (1, 1), W = 237, X = −3: A = σ(−711), subnormal or 0 (XLA flushes it to 0);
    # T = the smallest normal, so the cotangent T/N of J itself would flush to 0 (0/0 = NaN).
    network = Network((1, 1), ("sigmoid",), "binary_cross_entropy")
    params = (Layer(np.array([[237.0]], dtype), np.zeros(1, dtype)),)
    X = np.full((1, N), -3.0, dtype)
    T = np.full((1, N), np.finfo(dtype).smallest_normal, dtype)
    _, trace = autodiff_oracle.backprop(network, params, X, T)
    np.testing.assert_array_equal(trace.Delta[1], np.full((1, N), -np.inf, dtype))


DOT_GENERAL = re.compile(r"stablehlo\.dot_general[^\n]*")


def _lowered_programs(dtype, sizes, N):
    """The StableHLO text of every jitted function the oracle compiles for a problem's
    envelope (padded: one function; exact: loss, gradients, backprop)."""
    network = Network(sizes, ("tanh",) * (len(sizes) - 1))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((sizes[0], N)).astype(dtype)
    T = rng.standard_normal((sizes[-1], N)).astype(dtype)
    padded = pad(network, *validate(network, init_params(network, seed=0, dtype=dtype), X, T))
    functions = compiled(padded.envelope, padded.X.dtype)
    with jax.enable_x64(True):  # as the oracle calls them; precision is left at the default
        return [f.lower(*padded[1:]).as_text() for f in functions if hasattr(f, "lower")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("sizes", "N"), [((3, 4, 2), 5), ((40, 3, 2), 3)], ids=["padded", "exact"])
def test_eq_1_4_every_matrix_product_of_the_oracle_runs_at_highest_precision(dtype, sizes, N):
    """Every dot_general of the compiled programs (eq 1.4's forward product and its
    transposes in the backward pass) carries precision HIGHEST, so no backend default
    (TF32 for float32 on a GPU) applies; the lowered text is the same on every platform."""
    programs = _lowered_programs(dtype, sizes, N)
    dots = [line for text in programs for line in DOT_GENERAL.findall(text)]
    assert programs and len(dots) >= 3 * len(programs)
    assert [line for line in dots if "precision = [HIGHEST, HIGHEST]" not in line] == []


def test_oracle_leaves_the_host_matmul_precision_alone():
    before = jax.config.jax_default_matmul_precision
    autodiff_oracle.backprop(*_problem(np.float32))
    assert jax.config.jax_default_matmul_precision == before


def test_device_names_the_jax_backend_and_device():
    device = autodiff_oracle.device()
    assert (device.backend, device.device) == (
        jax.default_backend(),
        jax.devices()[0].device_kind,
    )
    assert str(device) == f"JAX backend {device.backend} ({device.device})"
