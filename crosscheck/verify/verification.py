"""`crosscheck verify`: every implementation's ∂J/∂W^(l), ∂J/∂b^(l) and J on real data.

The computation behind the CLI, usable from Python::

    plan = make_plan(load_dataset("digits"), samples=64, seed=0)
    result = verify(plan)
    result.agree, result.to_dict()

Three kinds of check, each a ``crosscheck.compare.comparison.Comparison``. Implementations with a
``backprop`` are compared trace against trace (``compare_backprop``: Z^(l), A^(l), J,
then Δ^(l), H^(l), ∂J/∂W^(l), ∂J/∂b^(l) for l = L..1, and Δ^(0)), so a disagreement is
located at its first equation; those with ``gradients`` only, on ∂J/∂W^(l), ∂J/∂b^(l) and
J. Every entry is held to the derived per-entry bound of ``crosscheck.compare.bounds``,
computed on the baseline's trace:

1. all N samples: the contracted reference (eqs 2.5, 2.10, 2.27, 2.36) is the baseline;
   vectorized and autodiff are compared with it.
2. a seeded subsample of n <= `samples` columns: the literal reference (eqs 2.1–2.4,
   2.22–2.26 with their Kronecker deltas) is the baseline, and every other implementation
   is run again on the same n columns — J's 1/N (eq 2.16) depends on N, so like is
   compared with like.
3. single entries: one W and one b entry per layer (seeded), each computed on its own by
   ``crosscheck.reference.gradient_entry`` (contracted form), compared with the entries of every
   full gradient. On all N samples when the estimated cost fits `ENTRY_BUDGET` scalar products,
   otherwise on the subsample (the plan says which, and why).

Seam for tests: ``default_lineup()`` returns the implementations of
``crosscheck.implementations``; monkeypatch it (or pass
``lineup=`` to ``verify``) to inject a broken one. An implementation that raises, returns
the wrong shapes or non-finite values is a finding (the check fails), never a crash.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from crosscheck.compare.bounds import Bounds, allowed_difference, rounding_dtype
from crosscheck.compare.comparison import Comparison, compare_backprop, compare_gradients
from crosscheck.ffnn import (
    NUMPY,
    Layer,
    Network,
    Trace,
    init_params,
    overflow_guard,
    validate,
    weight_decay_term,
)
from crosscheck.implementations import (
    AUTODIFF,
    CONTRACTED,
    IMPLEMENTATIONS,
    LITERAL,
    VECTORIZED,
)
from crosscheck.implementations import Implementation as Listed
from crosscheck.verify.datasets import Dataset, check_range, default_sizes

GradientsFn = Callable[[Network, Sequence[Layer], np.ndarray, np.ndarray], Sequence[Layer]]
LossFn = Callable[[Network, Sequence[Layer], np.ndarray, np.ndarray], float]
EntryFn = Callable[..., float]
BackpropFn = Callable[
    [Network, Sequence[Layer], np.ndarray, np.ndarray], tuple[Sequence[Layer], Trace]
]
Progress = Callable[[str], None]

ENTRY_SOURCE = "crosscheck.reference.gradient_entry (contracted)"
"""The expected side's name in the single-entry checks."""


ENTRY_BUDGET = 25_000_000
"""Most scalar products the single-entry spot checks may cost on all N samples.

Each entry recomputes the forward pass and the backward pass down to its layer (see
`entry_cost`). The contracted reference runs at ~1.2e7 products/s in pure Python, so the
budget is about two seconds: digits (64-32-10, N = 1797) needs 1.85e7 and fits; larger
problems check their entries on the subsample instead.
"""


MAX_PARAMETERS = 10_000_000
"""Most parameters Σ_l S_l (S_{l-1} + 1) a plan may have (80 MB in float64)."""

MAX_OPERATIONS = 1_000_000_000
"""Most scalar operations (`plan_cost`) the pure-Python reference may need for a plan.

The reference runs at about 1e7 scalar operations/s on one core (digits, the default plan,
needs 4e7 and takes about 4 s), so the cap is about 100 s of work; larger plans are refused
before any array is allocated (`PlanTooLargeError`).
"""


class PlanTooLargeError(ValueError):
    """Sizes or samples whose estimated cost exceeds `MAX_PARAMETERS` or `MAX_OPERATIONS`."""


OUTPUT_FOR_LOSS = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
"""The default output activation σ_L of losses that need one (ffnn checks the pairing)."""


@dataclass(frozen=True)
class Implementation:
    """An implementation of the DESIGN §3 contract given by its functions (tests inject a
    broken one this way); the listed ones, ``crosscheck.implementations``, have the same
    attributes.

    Attributes:
        name: shown in reports, e.g. ``"vectorized"``.
        gradients: ``(network, params, X, T) -> grads``; X (S_0, N), T (S_L, N); grads L
            Layers, ``grads[l-1].W`` (S_l, S_{l-1}), ``grads[l-1].b`` (S_l,).
        loss: ``(network, params, X, T) -> J``, a float.
        backprop: ``(network, params, X, T) -> (grads, trace)`` with an ``crosscheck.ffnn.Trace`` of
            (S_l, N) arrays, or None; when given it replaces `gradients`, and the whole
            trace is compared.
    """

    name: str
    gradients: GradientsFn
    loss: LossFn
    backprop: BackpropFn | None = None


@dataclass(frozen=True)
class Lineup:
    """Who is compared with whom.

    Attributes:
        literal: the baseline on the subsample (slow: the reference's literal form).
        contracted: the baseline on all N samples (the reference's contracted form).
        others: compared with both baselines (vectorized, autodiff).
        entry: ``(network, params, X, T, *, layer, name, index, form) -> float``, one
            entry ∂J/∂W^(l)_ij or ∂J/∂b^(l)_i computed on its own.
        device: ``() -> (backend, device)`` naming where the autodiff oracle computes
            (``crosscheck.autodiff_oracle.device``), or None for a lineup without it.
    """

    literal: Implementation | Listed
    contracted: Implementation | Listed
    others: tuple[Implementation | Listed, ...]
    entry: EntryFn
    device: Callable[[], tuple[str, str]] | None = None


def default_lineup() -> Lineup:
    """The implementations of ``crosscheck.implementations`` (reference in both forms,
    vectorized, autodiff), their modules imported now (JAX included): ``verify`` times this
    as loading the implementations."""
    for implementation in IMPLEMENTATIONS:
        implementation.imported()
    return Lineup(
        literal=LITERAL,
        contracted=CONTRACTED,
        others=(VECTORIZED, AUTODIFF),
        entry=partial(CONTRACTED.imported().gradient_entry, form="contracted"),
        device=AUTODIFF.imported().device,
    )


@dataclass(frozen=True)
class Entry:
    """One spot-checked gradient entry: ∂J/∂W^(layer)_index or ∂J/∂b^(layer)_index."""

    layer: int
    name: str
    index: tuple[int, ...]

    @property
    def label(self) -> str:
        """e.g. ``"∂J/∂W^(2)[3, 17]"``."""
        return f"∂J/∂{self.name}^({self.layer})[{', '.join(map(str, self.index))}]"


@dataclass(frozen=True)
class Plan:
    """A validated verification problem and what will be sampled.

    Attributes:
        dataset: name of the data (``"digits"``, or an npz file name).
        description: where the data came from.
        network: the architecture, sizes (S_0, ..., S_L).
        params: L Layers, ``params[l-1].W`` (S_l, S_{l-1}), ``params[l-1].b`` (S_l,),
            seeded (``crosscheck.ffnn.init_params``), read-only.
        X: (S_0, N) inputs; T: (S_L, N) targets; read-only, in ``dtype``.
        seed: seeds the parameters, the subsample and the entries.
        subsample: (n,) sorted column indices of the subsample, n = min(samples, N).
        entries: one W and one b entry per layer, l = L..1.
        entries_on_all: True if the entries are checked on all N samples, False if on
            the subsample.
        entry_cost: estimated scalar products of the entries on all N samples.
    """

    dataset: str
    description: str
    network: Network
    params: tuple[Layer, ...]
    X: np.ndarray
    T: np.ndarray
    seed: int
    subsample: np.ndarray
    entries: tuple[Entry, ...]
    entries_on_all: bool
    entry_cost: int

    @property
    def N(self) -> int:
        """Number of samples."""
        return self.X.shape[1]

    @property
    def dtype(self) -> np.dtype:
        """float64 or float32."""
        return self.X.dtype


def make_plan(
    dataset: Dataset,
    *,
    sizes: Sequence[int] | None = None,
    activations: Sequence[str] | None = None,
    loss: str = "squared_error",
    weight_decay: float = 0.0,
    seed: int = 0,
    samples: int = 64,
    dtype: str | np.dtype = "float64",
) -> Plan:
    """Build and validate the problem, choose the subsample and the entries; no gradients yet.

    Args:
        dataset: X (S_0, N), T (S_L, N) and the σ_L that suits T.
        sizes: (S_0, ..., S_L); default (S_0, 32, S_L). S_0 and S_L must fit the data.
        activations: σ_1..σ_L; default tanh for hidden layers, and last the σ_L the loss
            needs (`OUTPUT_FOR_LOSS`) or else the dataset's.
        loss: J's name (``crosscheck.ffnn.LOSSES``). weight_decay: λ >= 0.
        seed: seeds parameters (``crosscheck.ffnn.init_params``), subsample and entries.
        samples: subsample size for the literal reference, >= 1 (capped at N).
        dtype: ``"float64"`` or ``"float32"``, for X, T and the parameters.

    Returns:
        The Plan.

    Raises:
        PlanTooLargeError (a ValueError): more than `MAX_PARAMETERS` parameters or `MAX_OPERATIONS`
            scalar operations (`plan_cost`), refused before any array is allocated.
        ValueError: sizes that do not fit the data, samples < 1, an unknown activation or
            loss (ffnn's message), any error ``crosscheck.ffnn.Network`` or
            ``crosscheck.ffnn.validate`` raises, a value of X or T beyond the range of `dtype`
            (``datasets.check_range``), and Z^(l), A^(l) (eq 1.4) or J (eq 2.16, with weight decay)
            overflowing `dtype` for these finite inputs (`check_forward`).
        TypeError: a dtype other than float64/float32, and ffnn's type errors.
    """
    sizes = tuple(default_sizes(dataset) if sizes is None else sizes)
    if activations is None:
        output = OUTPUT_FOR_LOSS.get(loss, dataset.output_activation)
        activations = ("tanh",) * (len(sizes) - 2) + (output,)
    network = Network(sizes, tuple(activations), loss, weight_decay)
    S_0, S_L = dataset.X.shape[0], dataset.T.shape[0]
    if (network.sizes[0], network.sizes[-1]) != (S_0, S_L):
        raise ValueError(
            f"sizes {network.sizes} do not fit {dataset.name}: it has S_0 = {S_0} features"
            f" and S_L = {S_L} targets, so sizes must read {S_0},...,{S_L}"
        )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be an integer >= 1, got {samples!r}")
    _check_cost(network, dataset.N, min(samples, dataset.N))
    dtype = _float_dtype(dtype)
    check_range(dataset, dtype)
    params = init_params(network, seed=seed, dtype=dtype)
    params, X, T = validate(
        network, params, _frozen(dataset.X.astype(dtype)), _frozen(dataset.T.astype(dtype))
    )
    check_forward(network, params, X, T)
    for W, b in params:
        W.flags.writeable = b.flags.writeable = False
    sample_rng, entry_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)
    )
    N = X.shape[1]
    subsample = np.sort(sample_rng.choice(N, size=min(samples, N), replace=False))
    entries = _choose_entries(network, entry_rng)
    cost = entry_cost(network, N)
    return Plan(
        dataset=dataset.name,
        description=dataset.description,
        network=network,
        params=params,
        X=X,
        T=T,
        seed=seed,
        subsample=subsample,
        entries=entries,
        entries_on_all=cost <= ENTRY_BUDGET,
        entry_cost=cost,
    )


def plan_cost(network: Network, N: int, n: int) -> dict[str, int]:
    """Estimated work of a plan: parameters and the reference's scalar operations.

    Exact Python integers (no overflow). With P_l = S_l S_{l-1}:

    - ``contracted``: the contracted reference on all N samples, 3 Σ_l P_l N (forward
      eq 1.4, Δ^(l-1) eq 2.32, ∂J/∂W^(l) eq 2.27) plus Σ_l S_l N;
    - ``literal``: the literal reference on the n-sample subsample, whose Kronecker deltas
      are summed over, not collapsed: Σ_l (P_l n + P_l n² + S_l P_l n + S_l² n) (forward,
      Δ^(l-1) with δ_nn', ∂J/∂W^(l) with δ_ik, ∂J/∂b^(l)) plus S_l² n² for Δ^(L) and for
      every softmax layer (eqs 2.18, 2.13');
    - ``total``: both, the contracted reference on the subsample, and the single entries
      (`entry_cost`, on all N when that fits `ENTRY_BUDGET`, else on the subsample).

    Args:
        network: sizes (S_0, ..., S_L). N: samples. n: subsample size, <= N.

    Returns:
        {"parameters", "contracted", "literal", "total"}, each an int.
    """
    S, L = network.sizes, network.L

    def contracted(m: int) -> int:
        return sum(3 * S[l] * S[l - 1] * m + S[l] * m for l in range(1, L + 1))

    literal = S[L] ** 2 * n**2
    for l in range(1, L + 1):
        P_l = S[l] * S[l - 1]
        literal += P_l * n + P_l * n**2 + S[l] * P_l * n + S[l] ** 2 * n
        if not network.sigma(l).elementwise:
            literal += S[l] ** 2 * n**2
    entries = entry_cost(network, N)
    entries = entries if entries <= ENTRY_BUDGET else entry_cost(network, n)
    return {
        "parameters": sum(S[l] * (S[l - 1] + 1) for l in range(1, L + 1)),
        "contracted": contracted(N),
        "literal": literal,
        "total": contracted(N) + contracted(n) + literal + entries,
    }


def check_forward(network: Network, params: Sequence[Layer], X: np.ndarray, T: np.ndarray) -> None:
    """Refuse finite inputs whose Z^(l), A^(l) (eq 1.4) or J (eq 2.16 + weight decay)
    overflow their dtype, before any implementation runs (one NumPy forward pass).

    Without it every implementation would fail on such inputs (the reference with an
    OverflowError turned ValueError, others with inf): not a disagreement but inputs too
    large for the dtype. Overflow in the backward pass alone is still reported per check.

    Args:
        network: the architecture. params: L Layers, W^(l) (S_l, S_{l-1}), b^(l) (S_l,).
        X: (S_0, N), T: (S_L, N), validated, float32 or float64.

    Raises:
        ValueError: "<quantity> overflows <dtype> for these inputs ...", naming the first of
            Z^(1), A^(1), ..., Z^(L), A^(L), J that is not finite; no warning is emitted.
    """
    dtype = X.dtype
    named: list[tuple[str, Any]] = []
    with overflow_guard():
        A = X
        for l, (W, b) in enumerate(params, start=1):
            Z = W @ A + b[:, None]
            A = network.sigma(l)(Z, NUMPY)
            named += [(f"Z^({l})", Z), (f"A^({l})", A)]
        Ws = [W for W, _ in params]
        J = network.J.J(Z, A, T, NUMPY) + weight_decay_term(Ws, network.weight_decay, NUMPY)
        named.append(("J", J))
    wider = " or use float64" if dtype == np.float32 else ""
    for name, value in named:
        if not np.isfinite(value).all():
            raise ValueError(
                f"{name} overflows {dtype} for these inputs (they are finite but too large:"
                f" scale X, T or the weight decay down{wider})"
            )


def _check_cost(network: Network, N: int, n: int) -> None:
    cost = plan_cost(network, N, n)
    if cost["parameters"] > MAX_PARAMETERS:
        raise PlanTooLargeError(
            f"sizes {network.sizes} have {cost['parameters']:.3g} parameters, more than the"
            f" cap of {MAX_PARAMETERS:.3g}"
        )
    if cost["total"] > MAX_OPERATIONS:
        raise PlanTooLargeError(
            f"the reference would need about {cost['total']:.2g} scalar operations (contracted"
            f" on all N = {N}: {cost['contracted']:.2g}; literal on n = {n}:"
            f" {cost['literal']:.2g}), more than the cap of {MAX_OPERATIONS:.2g} (about 100 s);"
            " use smaller widths or fewer samples"
        )


def entry_cost(network: Network, N: int) -> int:
    """Estimated scalar products of `_choose_entries`' 2L entries, each computed on its own.

    An entry of layer l needs the forward pass (Σ_k S_k S_{k-1} N products, eq 1.4), the
    backward steps Δ^(k-1) = (W^(k))ᵗ H^(k) for k = L..l+1 (S_k S_{k-1} N each, eq 2.32)
    and its own sum over n (S_{l-1} N at most).
    """
    S, L = network.sizes, network.L
    forward = sum(S[k] * S[k - 1] * N for k in range(1, L + 1))
    total = 0
    for l in range(1, L + 1):
        backward = sum(S[k] * S[k - 1] * N for k in range(l + 1, L + 1))
        total += 2 * (forward + backward + S[l - 1] * N)
    return total


@dataclass(frozen=True)
class Check:
    """One comparison of an implementation with a baseline.

    Attributes:
        on: ``"all"`` (N samples), ``"subsample"`` or ``"entries"``.
        expected: the baseline's name; actual: the compared implementation's name.
        comparison: the report, or None when one side raised or returned something that
            cannot be compared (then `error` says what).
        error: None, or one line naming the side and the exception.
    """

    on: str
    expected: str
    actual: str
    comparison: Comparison | None
    error: str | None = None

    @property
    def agree(self) -> bool:
        """True if compared and every row passed."""
        return self.comparison is not None and self.comparison.agree

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: on, expected, actual, agree, error, first mismatch and its equation,
        the worst error/bound ratio, entries at a kink, the rule, and the comparison's rows
        (each with ``worst_error_to_bound`` and ``bound``)."""
        rows = {} if self.comparison is None else self.comparison.to_dict()
        return {
            "on": self.on,
            "expected": self.expected,
            "actual": self.actual,
            "agree": self.agree,
            "error": self.error,
            "first_mismatch": rows.get("first_mismatch"),
            "first_mismatch_equation": rows.get("first_mismatch_equation"),
            "worst_error_to_bound": rows.get("worst_error_to_bound"),
            "n_at_kink": rows.get("n_at_kink", 0),
            "tolerance": rows.get("tolerance"),
            "rows": rows.get("rows", []),
        }


@dataclass(frozen=True)
class Verification:
    """The result of `verify`.

    Attributes:
        plan: what was verified.
        checks: every comparison, in the order all, subsample, entries.
        timings: wall seconds: ``implementations`` {name: {"all": s, "subsample": s}},
            ``entries``, ``import`` (loading the implementations, JAX included), ``total``.
        device: (JAX backend, device kind) the autodiff oracle ran on, e.g. ("cpu", "cpu"),
            ("gpu", "NVIDIA H200"); None when the lineup has no JAX side.
    """

    plan: Plan
    checks: tuple[Check, ...]
    timings: dict[str, Any] = field(default_factory=dict)
    device: tuple[str, str] | None = None

    @property
    def agree(self) -> bool:
        """True exactly when every check agrees."""
        return all(check.agree for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``json.dumps(allow_nan=False)`` works): results, with timings apart."""
        plan, network = self.plan, self.plan.network
        return {
            "agree": self.agree,
            "dataset": plan.dataset,
            "description": plan.description,
            "N": plan.N,
            "sizes": list(network.sizes),
            "activations": list(network.activations),
            "loss": network.loss,
            "weight_decay": network.weight_decay,
            "dtype": str(plan.dtype),
            "seed": plan.seed,
            "subsample": {"n": len(plan.subsample), "indices": plan.subsample.tolist()},
            "entries": {
                "on": "all" if plan.entries_on_all else "subsample",
                "estimated_cost_all": plan.entry_cost,
                "budget": ENTRY_BUDGET,
                "chosen": [
                    {"layer": e.layer, "name": e.name, "index": list(e.index), "label": e.label}
                    for e in plan.entries
                ],
            },
            "jax": None
            if self.device is None
            else {"backend": self.device[0], "device": self.device[1]},
            "checks": [check.to_dict() for check in self.checks],
            "timings": self.timings,
        }


def verify(
    plan: Plan, *, lineup: Lineup | None = None, progress: Progress | None = None
) -> Verification:
    """Run every implementation on the plan's data and compare (module docstring, 1–3).

    Args:
        plan: from `make_plan`.
        lineup: the implementations; default ``default_lineup()``.
        progress: called with a one-line description before each step (e.g. to update a
            spinner); None for silence.

    Returns:
        The Verification; ``.agree`` is True exactly when every check agrees.

    Raises:
        Nothing from the implementations: what they raise is recorded in a failing Check.
    """
    say = progress or (lambda message: None)
    start = time.perf_counter()
    say("loading the implementations (JAX included)")
    if lineup is None:
        lineup = default_lineup()
    loaded = time.perf_counter()
    data = {
        "all": (plan.X, plan.T),
        "subsample": (_frozen(plan.X[:, plan.subsample]), _frozen(plan.T[:, plan.subsample])),
    }
    full = (lineup.contracted, *lineup.others)
    runs, timings = _run_each(plan, data, {"all": full, "subsample": (lineup.literal, *full)}, say)
    checks = [
        _compare(plan, on, data[on], baseline.name, impl.name, runs[on])
        for on, baseline, impls in (
            ("all", lineup.contracted, lineup.others),
            ("subsample", lineup.literal, full),
        )
        for impl in impls
    ]
    on = "all" if plan.entries_on_all else "subsample"
    say(f"{len(plan.entries)} single entries on {data[on][0].shape[1]} samples")
    t = time.perf_counter()
    entries = _entries(lineup.entry, plan, *data[on])
    entry_time = time.perf_counter() - t
    baseline = runs[on][full[0].name]
    checks += [
        _compare_entries(plan, data[on], entries, baseline, impl.name, runs[on][impl.name])
        for impl in full
    ]
    timings_out = {
        "implementations": timings,
        "entries": entry_time,
        "import": loaded - start,
        "total": time.perf_counter() - start,
    }
    device = None if lineup.device is None else tuple(lineup.device())
    return Verification(plan, tuple(checks), timings_out, device)


def _run_each(
    plan: Plan,
    data: dict[str, tuple[np.ndarray, np.ndarray]],
    impls: dict[str, Sequence[Implementation | Listed]],
    say: Progress,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, float]]]:
    """Run `impls[on]` on `data[on]`: ({on: {name: (grads, J) or exception}}, seconds)."""
    runs: dict[str, dict[str, Any]] = {}
    timings: dict[str, dict[str, float]] = {}
    for on, (X, T) in data.items():
        for impl in impls[on]:
            say(f"{impl.name} on {'all ' if on == 'all' else ''}{X.shape[1]} samples")
            t = time.perf_counter()
            runs.setdefault(on, {})[impl.name] = _run(impl, plan, X, T)
            timings.setdefault(impl.name, {})[on] = time.perf_counter() - t
    return runs, timings


def _run(impl: Implementation | Listed, plan: Plan, X: np.ndarray, T: np.ndarray) -> Any:
    """(grads, J, trace or None), or the exception the implementation raised (a finding)."""
    network, params = plan.network, plan.params
    try:
        if impl.backprop is not None:
            grads, trace = impl.backprop(network, params, X, T)
        else:
            grads, trace = impl.gradients(network, params, X, T), None
        return grads, impl.loss(network, params, X, T), trace
    except Exception as error:  # any failure of the code under test is a finding
        return error


def _compare(
    plan: Plan,
    on: str,
    data: tuple[np.ndarray, np.ndarray],
    expected: str,
    actual: str,
    runs: dict[str, Any],
) -> Check:
    """Trace against trace when both sides have one, else gradients and J; derived bound."""
    for name in (expected, actual):
        if isinstance(runs[name], Exception):
            return Check(on, expected, actual, None, f"{name} raised {_one_line(runs[name])}")
    (e_grads, e_J, e_trace), (a_grads, a_J, a_trace) = runs[expected], runs[actual]
    names = (expected, actual)
    try:
        if a_trace is not None:
            comparison = compare_backprop(
                plan.network,
                plan.params,
                *data,
                (e_grads, e_trace),
                (a_grads, a_trace),
                expected_loss=e_J,
                actual_loss=a_J,
                names=names,
            )
        else:
            allowed = _allowed(plan, data, e_trace, e_grads, a_grads)
            comparison = compare_gradients(
                e_grads,
                a_grads,
                expected_loss=e_J,
                actual_loss=a_J,
                names=names,
                allowed=allowed.grads,
                allowed_loss=allowed.J,
            )
    except (TypeError, ValueError) as error:
        return Check(on, expected, actual, None, f"cannot compare: {_one_line(error)}")
    return Check(on, expected, actual, comparison)


def _allowed(
    plan: Plan,
    data: tuple[np.ndarray, np.ndarray],
    trace: Trace,
    e_grads: Sequence[Layer],
    a_grads: Sequence[Layer],
) -> Bounds:
    """``allowed_difference`` on the baseline's trace, for the dtype of each side's gradients."""
    e_dtype, a_dtype = (
        rounding_dtype(np.asarray(a).dtype for layer in grads for a in layer)
        for grads in (e_grads, a_grads)
    )
    return allowed_difference(plan.network, plan.params, *data, trace, e_dtype, a_dtype)


def _entries(entry: EntryFn, plan: Plan, X: np.ndarray, T: np.ndarray) -> Any:
    """{(layer, name): value} from ``entry``, or the exception it raised."""
    try:
        return {
            (e.layer, e.name): entry(
                plan.network, plan.params, X, T, layer=e.layer, name=e.name, index=e.index
            )
            for e in plan.entries
        }
    except Exception as error:  # any failure of the code under test is a finding
        return error


def _compare_entries(
    plan: Plan,
    data: tuple[np.ndarray, np.ndarray],
    entries: Any,
    baseline: Any,
    actual: str,
    run: Any,
) -> Check:
    """Compare single entries as 1-entry "gradients": W^(l) as (1, 1), b^(l) as (1,).

    The bound of each entry is that of the same entry of the full gradient (the entry
    sums the same terms), on the contracted reference's trace of the same data.
    """
    on = "entries"
    for name, result in ((ENTRY_SOURCE, entries), (actual, run), ("the baseline", baseline)):
        if isinstance(result, Exception):
            return Check(on, ENTRY_SOURCE, actual, None, f"{name} raised {_one_line(result)}")
    grads = run[0]
    expected, picked, allowed = [], [], []
    try:
        bounds = _allowed(plan, data, baseline[2], baseline[0], grads).grads
        for l in range(1, plan.network.L + 1):
            expected.append(Layer(np.array([[entries[(l, "W")]]]), np.array([entries[(l, "b")]])))
            W_index, b_index = (e.index for e in plan.entries if e.layer == l)
            pick = [
                Layer(np.array([[np.asarray(g.W)[W_index]]]), np.array([np.asarray(g.b)[b_index]]))
                for g in (grads[l - 1], bounds[l - 1])
            ]
            picked.append(pick[0])
            allowed.append(pick[1])
        comparison = compare_gradients(
            expected, picked, names=(ENTRY_SOURCE, actual), allowed=allowed
        )
    except (TypeError, ValueError, IndexError) as error:
        return Check(on, ENTRY_SOURCE, actual, None, f"cannot compare: {_one_line(error)}")
    return Check(on, ENTRY_SOURCE, actual, comparison)


def _choose_entries(network: Network, rng: np.random.Generator) -> tuple[Entry, ...]:
    entries = []
    for l in range(network.L, 0, -1):
        (rows, cols), _ = network.param_shapes()[l - 1]
        entries.append(Entry(l, "W", (int(rng.integers(rows)), int(rng.integers(cols)))))
        entries.append(Entry(l, "b", (int(rng.integers(rows)),)))
    return tuple(entries)


def _float_dtype(dtype: str | np.dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float64 or float32, got {dtype}")
    return dtype


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
