"""The benchmark cases (DESIGN §6), shared by ``crosscheck bench`` and ``benchmarks/``.

A case is a size (widths and N) and a network: by default tanh hidden layers, an identity
output and squared-error J (eq 2.16); the activation sweep (``NETWORKS``) varies the hidden
σ and the output/loss pair. Parameters are seeded Glorot (``crosscheck.ffnn.init_params``),
X standard normal, T standard normal (squared error), probability columns (cross-entropy)
or uniform in [0, 1] (binary cross-entropy). A case's *runners* are zero-argument
callables, one per implementation, each doing one full forward + backward pass through the
public API (validation included), plus the GEMM-only pass: the same matrix products alone,
on preallocated arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from crosscheck.ffnn import Layer, Network, init_params
from crosscheck.implementations import AUTODIFF, CONTRACTED, LITERAL, VECTORIZED, by_key

ACTIVATIONS_SWEPT: tuple[str, ...] = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "softplus",
    "elu",
    "gelu",
)
"""The built-in hidden activations of the sweep (every elementwise σ but identity)."""

HIDDEN, OUTPUT, LOSS = "tanh", "identity", "squared_error"
"""σ of hidden layers, σ_L, and J of the default benchmark network."""


@dataclass(frozen=True)
class BenchCase:
    """One benchmark problem: widths (S_0, ..., S_L), N samples, which implementations run.

    Attributes:
        name: "tiny", "small", "medium" or "large" (the pytest-benchmark group).
        sizes: (S_0, ..., S_L).
        N: samples (columns of X).
        references: whether the pure-Python reference forms (literal, contracted) run.
        hidden, output, loss: σ of the hidden layers, σ_L and J.
    """

    name: str
    sizes: tuple[int, ...]
    N: int
    references: bool = False
    hidden: str = HIDDEN
    output: str = OUTPUT
    loss: str = LOSS

    @property
    def network(self) -> Network:
        """`hidden` σ in layers 1..L-1, `output` σ_L, J = `loss`."""
        L = len(self.sizes) - 1
        return Network(self.sizes, (self.hidden,) * (L - 1) + (self.output,), self.loss)

    @property
    def label(self) -> str:
        """The network in words: "tanh", or "tanh → sigmoid + binary_cross_entropy" where the
        output/loss pair is not the default identity + squared error."""
        if (self.output, self.loss) == (OUTPUT, LOSS):
            return self.hidden
        return f"{self.hidden} → {self.output} + {self.loss}"

    def with_network(self, hidden: str, output: str, loss: str) -> BenchCase:
        """This size with another network (no references)."""
        return BenchCase(self.name, self.sizes, self.N, False, hidden, output, loss)

    @property
    def flops(self) -> int:
        """Exact flop count of one pass's matrix products (``flop_count``)."""
        return flop_count(self.sizes, self.N)


CASES: tuple[BenchCase, ...] = (
    BenchCase("tiny", (2, 3, 1), 4, references=True),
    BenchCase("small", (10, 20, 10), 32, references=True),
    BenchCase("medium", (256, 256, 256, 10), 512),
    BenchCase("large", (1024, 1024, 1024, 1024), 4096),
)
"""The four sizes of issue 6; ``--quick`` drops "large"."""

DTYPES: tuple[str, ...] = ("float64", "float32")

NETWORKS: tuple[tuple[str, str, str], ...] = (
    *((hidden, OUTPUT, LOSS) for hidden in ACTIVATIONS_SWEPT),
    (HIDDEN, "sigmoid", "binary_cross_entropy"),
    (HIDDEN, "softmax", "cross_entropy"),
)
"""(hidden σ, σ_L, J) of the activation sweep: every built-in hidden activation with an
identity output and squared error, then tanh hidden layers with each classification pair."""

GEMM_ONLY = "gemm_only"
"""The runner of the GEMM-only floor (``gemm_only``)."""

IMPLEMENTATIONS: tuple[str, ...] = (
    VECTORIZED.key,
    AUTODIFF.key,
    CONTRACTED.key,
    LITERAL.key,
    GEMM_ONLY,
)
"""Runner names: the listed implementations (``crosscheck.implementations``) — vectorized,
autodiff timed as plain JAX ``jax.jit(jax.grad(J))`` (warm), the reference's contracted and
literal forms — and the GEMM-only floor."""

REFERENCES: tuple[str, ...] = (LITERAL.key, CONTRACTED.key)
"""The pure-Python runners, timed only on cases with ``references``."""

SWEEP_IMPLEMENTATIONS: tuple[str, ...] = (
    VECTORIZED.key,
    "one_thread",
    "backprop",
    AUTODIFF.key,
    GEMM_ONLY,
)
"""Runners of the activation sweep: crosscheck.vectorized.gradients, the same with its
elementwise kernels on one thread, .backprop, JAX's ``jax.jit(jax.grad(J))`` and the
GEMM-only floor."""


def case_by_name(name: str) -> BenchCase:
    """The case called `name`. Raises ValueError for an unknown name, listing the known ones."""
    for case in CASES:
        if case.name == name:
            return case
    raise ValueError(f"unknown case {name!r}; known: {', '.join(c.name for c in CASES)}")


def flop_count(sizes: tuple[int, ...], N: int) -> int:
    """Flops of the matrix products of one forward + backward pass (DESIGN §6).

    A product (S_l, S_{l-1})·(S_{l-1}, N) costs 2·S_l·S_{l-1}·N flops (a multiply and an
    add per term). Layer l has three: Z^(l) = W A (eq 1.4), ∂J/∂W^(l) = H Aᵗ (eqs 2.14,
    2.33) and Δ^(l-1) = Wᵗ H (eq 2.32) — layer 1 only two, since Δ^(0) is not needed.

    Args:
        sizes: (S_0, ..., S_L), at least two positive widths.
        N: samples, >= 1.

    Returns:
        Σ_l products_l · 2·S_l·S_{l-1}·N, an exact Python int.

    Raises:
        Nothing of its own.
    """
    return sum((2 if l == 1 else 3) * 2 * sizes[l] * sizes[l - 1] * N for l in range(1, len(sizes)))


def make_problem(
    case: BenchCase, dtype: str = "float64", seed: int = 0
) -> tuple[Network, tuple[Layer, ...], np.ndarray, np.ndarray]:
    """(network, params, X (S_0, N), T (S_L, N)) for `case`: seeded, in `dtype`."""
    network = case.network
    params = init_params(network, seed=seed, dtype=np.dtype(dtype))
    rng = np.random.default_rng(seed + 1)
    X = rng.standard_normal((case.sizes[0], case.N)).astype(dtype)
    shape = (case.sizes[-1], case.N)
    if case.loss == "cross_entropy":  # probability columns (eq 2.16')
        T = rng.dirichlet(np.ones(shape[0]), size=shape[1]).T.astype(dtype)
    elif case.loss == "binary_cross_entropy":  # entries in [0, 1] (eq 2.16'')
        T = rng.uniform(0.0, 1.0, shape).astype(dtype)
    else:
        T = rng.standard_normal(shape).astype(dtype)
    return network, params, X, T


def gemm_only(case: BenchCase, dtype: str = "float64") -> Callable[[], None]:
    """The pass's own matrix products alone, on preallocated arrays: the GEMM-only floor.

    Per layer l = 1..L one ``np.matmul(W, A, out=Z)``; per layer l = L..1 one
    ``np.matmul(H, Aᵗ, out=dW)`` and, for l > 1, one ``np.matmul(Wᵗ, H, out=Δ)``, with
    operands of the shapes and layouts the vectorized pass uses (Aᵗ and Wᵗ as views).
    Operand values are random; a product's time does not depend on them.

    Returns:
        A zero-argument callable running those ``flop_count(case.sizes, case.N)`` flops.
    """
    S, N = case.sizes, case.N
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((S[l], S[l - 1])).astype(dtype) for l in range(1, len(S))]
    A = [rng.standard_normal((s, N)).astype(dtype) for s in S]
    Z = [np.empty((s, N), dtype) for s in S]
    Delta = [np.empty((s, N), dtype) for s in S]
    dW = [np.empty_like(w) for w in W]

    def run() -> None:
        for l in range(1, len(S)):
            np.matmul(W[l - 1], A[l - 1], out=Z[l])  # eq 1.4
        for l in range(len(S) - 1, 0, -1):
            np.matmul(Z[l], A[l - 1].T, out=dW[l - 1])  # eqs 2.14, 2.33 (Z stands in for H)
            if l > 1:
                np.matmul(W[l - 1].T, Z[l], out=Delta[l - 1])  # eq 2.32

    return run


def runner(case: BenchCase, implementation: str, dtype: str = "float64") -> Callable[[], object]:
    """A zero-argument callable doing one forward + backward pass of `implementation` on `case`.

    Args:
        case: the problem (``make_problem``).
        implementation: a name in ``IMPLEMENTATIONS`` or ``SWEEP_IMPLEMENTATIONS``:
            crosscheck.vectorized.gradients (one_thread: with its elementwise kernels on one
            thread, ``crosscheck.vectorized.parallel``; backprop: .backprop, the trace
            included),
            ``jax.jit(jax.grad(J))`` with J = ``crosscheck.autodiff_oracle.objective.objective`` at
            the case's exact shapes, inputs already on the device, the result waited for — the
            plain JAX a user would write, without the oracle's validation and padding
            (``jax.jit`` compiles on the first call: warm it up before timing);
            crosscheck.reference.gradients with form contracted or literal; or the GEMM-only pass
            (``gemm_only``). vectorized and reference go through the public API, validation
            included.
        dtype: "float64" or "float32".

    Raises:
        ValueError: an unknown implementation name.
    """
    if implementation == GEMM_ONLY:
        return gemm_only(case, dtype)
    if implementation not in IMPLEMENTATIONS + SWEEP_IMPLEMENTATIONS:
        known = tuple(dict.fromkeys(IMPLEMENTATIONS + SWEEP_IMPLEMENTATIONS))
        raise ValueError(f"unknown implementation {implementation!r}; known: {known}")
    network, params, X, T = make_problem(case, dtype)
    if implementation == AUTODIFF.key:
        return _jax_gradients(network, params, X, T)
    if implementation == "backprop":
        backprop = VECTORIZED.backprop
        return lambda: backprop(network, params, X, T)
    if implementation == "one_thread":
        from crosscheck.vectorized.parallel import elementwise_threads_set

        gradients = VECTORIZED.gradients

        def one_thread() -> object:
            with elementwise_threads_set(1):
                return gradients(network, params, X, T)

        return one_thread
    gradients = by_key(implementation).gradients  # looked up once, outside the timed call
    return lambda: gradients(network, params, X, T)


def _jax_gradients(
    network: Network, params: Any, X: np.ndarray, T: np.ndarray
) -> Callable[[], object]:
    import jax

    from crosscheck.autodiff_oracle.objective import objective

    with jax.enable_x64(True):
        args = jax.device_put((params, X, T))
        grad = jax.jit(jax.grad(lambda p, X, T: objective(network, p, X, T)[0]))

    def run() -> object:
        with jax.enable_x64(True):
            return jax.block_until_ready(grad(*args))

    return run


def implementations(case: BenchCase, dtype: str = "float64") -> tuple[str, ...]:
    """The runners timed on `case` in `dtype`: the pure-Python references only where
    ``case.references``, and in float32 only if they kept float32 (``keeps_float32``: they
    compute in float64 whatever the input)."""
    return tuple(
        name
        for name in IMPLEMENTATIONS
        if name not in REFERENCES
        or (case.references and (dtype == "float64" or by_key(name).keeps_float32))
    )
