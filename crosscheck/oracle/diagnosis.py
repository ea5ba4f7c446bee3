"""What a failing example says: known bug and where it lives, self-consistency, suite agreement.

Run once, on the minimal failing example, by ``crosscheck.oracle.search`` (beside
``crosscheck.oracle.relations``, the relation seen per quantity and layer, and
``crosscheck.oracle.conventions``, the loss conventions):

- ``diagnose``: every catalogued mutant (``crosscheck.oracle.catalogue``) is run on the
  example — as catalogued, and, for a mistake in per-layer steps, made in each layer l alone
  — and those whose output matches the function's name the bug, with where it lives: its
  layer (when in one alone) and the arrays it changes on the example (J, ∂J/∂W^(l),
  ∂J/∂b^(l), those where its output leaves the suite's allowed error). A match is every
  returned array, and J if it returned one, entry by entry within rtol·(|e| + max|e| over the
  array), rtol the dtype's fixed-rule constant (``crosscheck.compare.bounds.catalogue_allowed``:
  2⁻³⁰, or 2⁻¹⁰ for a float32 mutant) — relative to each array's own scale, so a tiny example
  is judged as finely as an ordinary one; a function that returns float32 is matched at
  float32's constant.
  Mutants that agree with the suite on the example (same rule) are left out: they tell
  nothing apart.
- ``consistency``: is the returned gradient the gradient of the returned loss, whatever their
  conventions? The directional derivative of the function's own J along a random unit
  direction e over every W^(l), b^(l) (central differences, numdifftools) is compared with
  ⟨grad, e⟩ from its own gradient.
- ``suite_agreement``: the contracted reference and autodiff against vectorized (the anchor),
  whole traces, to show the suite agrees with itself on the example.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numdifftools as nd
import numpy as np

from crosscheck import reference, vectorized
from crosscheck.compare.bounds import catalogue_allowed
from crosscheck.compare.comparison import Comparison, compare_backprop
from crosscheck.ffnn import NUMPY, Layer
from crosscheck.oracle.catalogue import CATALOGUE, Mutant
from crosscheck.oracle.expected import Expected, expected_values
from crosscheck.oracle.layouts import Adapter, Returned, call, unpack
from crosscheck.strategies import Problem

STEP = 1e-3
"""Largest step of the directional central differences (then halved NUM_STEPS − 1 times)."""

NUM_STEPS = 6
"""Steps numdifftools extrapolates over in ``consistency``."""


@dataclass(frozen=True)
class Diagnosis:
    """A catalogued bug whose output matches the function's on the failing example.

    Attributes:
        name: the mutant's name (``crosscheck.oracle.catalogue.MUTANTS``).
        text: what the bug is.
        layer: None when the bug as catalogued (in every layer) matches; l when it matches
            made in layer l alone (``Mutant.only_in_layer``).
        where: the arrays the bug changes on this example, "J", "∂J/∂W^(l)", "∂J/∂b^(l)"
            (those where its output differs from the suite's beyond the allowed error), in
            the comparison table's order.
    """

    name: str
    text: str
    layer: int | None = None
    where: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The name, with its layer when it lives in one: ``"sign_flipped in layer 2 only"``."""
        return self.name if self.layer is None else f"{self.name} in layer {self.layer} only"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "text": self.text,
            "layer": self.layer,
            "where": list(self.where),
        }


@dataclass(frozen=True)
class Consistency:
    """Is the returned gradient the gradient of the returned loss (along one direction e)?

    Attributes:
        verdict: ``"consistent"``, ``"inconsistent"`` or ``"inconclusive"``.
        finite_difference: d/dt J_fn(θ + t e) at t = 0, by numdifftools (nan if inconclusive
            before differencing).
        from_gradient: ⟨grad_fn, e⟩.
        allowed: the allowed |finite_difference − from_gradient|.
        note: why, in a sentence.
    """

    verdict: str
    finite_difference: float
    from_gradient: float
    allowed: float
    note: str


LAYOUT_HINT = " (or pass weights='in_out' if that is the layout)"
"""A mutant diagnosis's hint, dropped when the function was checked with weights='in_out'."""


def diagnose(
    problem: Problem, returned: Returned, ours: tuple[float, Any], weights: str = "out_in"
) -> tuple[Diagnosis, ...]:
    """The catalogued bugs whose output on `problem` matches `returned` (module docstring).

    Each mutant is tried as catalogued; a per-layer one (``Mutant.per_layer``) that does not
    match is then tried made in each layer l alone, for L > 1.

    Args:
        problem: the failing example, suite layout: W^(l) (S_l, S_{l-1}), b^(l) (S_l,),
            X (S_0, N), T (S_L, N).
        returned: the function's output, suite layout (shapes may be wrong).
        ours: the suite's (J, grads) on the problem.
        weights: the function's weight layout; under ``"in_out"`` the hint to pass it is
            left out.

    Returns:
        Diagnoses in catalogue order, each with where it lives; empty if no mutant matches,
        or if `returned` is within the allowed error of the suite's everywhere (a float32
        mutant's output may match correct code within its float32 rule).
    """
    network = problem.network
    expected = expected_values(problem)
    if not _where(returned, expected):
        return ()  # within the allowed error everywhere: no fault to name
    found = []
    for mutant in CATALOGUE:
        args = (network.activations, network.loss, network.weight_decay)
        candidates = [(None, mutant.bind(*args))]
        if mutant.per_layer and network.L > 1:
            candidates += [(l, mutant.only_in_layer(l, *args)) for l in range(1, network.L + 1)]
        for layer, fn in candidates:
            mutated = _run(fn, problem, with_J=returned.J is not None)
            if mutated is not None and _matches(mutant, mutated, returned, ours):
                # one layer transposed is no layout: the hint to pass weights='in_out' goes
                hint = weights == "out_in" and layer is None
                text = mutant.diagnosis if hint else mutant.diagnosis.replace(LAYOUT_HINT, "")
                found.append(Diagnosis(mutant.name, text, layer, _where(mutated, expected)))
                break
    return tuple(found)


def _run(fn: Callable[..., Any], problem: Problem, with_J: bool) -> Returned | None:
    """A mutant's output on `problem` as a Returned (J only if `with_J`), or None if its
    mistaken products cannot take these shapes (then it is not this bug)."""
    _, params, X, T = problem
    try:
        with np.errstate(all="ignore"):
            J, dWs, dbs = fn([W for W, _ in params], [b for _, b in params], X, T)
        grads = tuple(Layer(np.asarray(W), np.asarray(b)) for W, b in zip(dWs, dbs, strict=True))
    except Exception:
        return None
    return Returned(J if with_J else None, grads)


def _matches(
    mutant: Mutant, mutated: Returned, returned: Returned, ours: tuple[float, Any]
) -> bool:
    """The mutant's output differs from the suite's and matches the function's."""
    our_J, our_grads = ours
    suite = Returned(our_J if mutated.J is not None else None, our_grads)
    if _agree(suite, mutated, (np.float64,)):
        return False  # indistinguishable from the correct answer here
    # the coarser of the mutant's precision and the function's (float32 code: float32's)
    theirs = np.float64 if returned.dtype == "float64" else np.float32
    return _agree(mutated, returned, (mutant.backprop.dtype, theirs))


def _where(mutated: Returned, expected: Expected) -> tuple[str, ...]:
    """Labels of the arrays in which `mutated` differs from the suite's beyond the allowed
    error (or in shape), J first, then ∂J/∂W^(l), ∂J/∂b^(l) for l = L..1."""
    if len(mutated.grads) != len(expected.grads):
        return ("the number of layers",)
    where = []
    if mutated.J is not None and not abs(mutated.J - expected.J) <= expected.allowed_J:
        where.append("J")
    for l in range(len(expected.grads), 0, -1):
        for quantity in "Wb":
            E = getattr(expected.grads[l - 1], quantity)
            B = getattr(expected.allowed[l - 1], quantity)
            M = np.asarray(getattr(mutated.grads[l - 1], quantity), dtype=np.float64)
            with np.errstate(all="ignore"):
                if M.shape != E.shape or not np.all(np.abs(M - E) <= B):
                    where.append(f"∂J/∂{quantity}^({l})")
    return tuple(where)


def _agree(expected: Returned, actual: Returned, dtypes: tuple[Any, ...]) -> bool:
    """Same structure and shapes, and every entry within ``catalogue_allowed`` of the coarsest
    of `dtypes`: rtol·(|e| + max|e| of its array)."""
    if len(expected.grads) != len(actual.grads) or (expected.J is None) != (actual.J is None):
        return False
    pairs = [] if expected.J is None else [(expected.J, actual.J)]
    for e, a in zip(expected.grads, actual.grads, strict=True):
        pairs += [(e.W, a.W), (e.b, a.b)]
    return all(_close(np.asarray(e), np.asarray(a), dtypes) for e, a in pairs)


def _close(e: np.ndarray, a: np.ndarray, dtypes: tuple[Any, ...]) -> bool:
    if e.shape != a.shape:
        return False
    e, a = e.astype(np.float64), a.astype(np.float64)
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(a - e) <= catalogue_allowed(e, *dtypes)))


def consistency(
    fn: Callable[..., Any], adapter: Adapter, problem: Problem, returned: Returned, seed: int
) -> Consistency:
    """Compare d/dt J_fn(θ + t e) at 0 with ⟨grad_fn, e⟩ for a random unit direction e.

    Args:
        fn: the function under test, in `adapter`'s layout; its J is what is differenced.
        adapter: its layout.
        problem: the example (suite layout).
        returned: its output on the example, with a J (suite layout, shapes checked).
        seed: seeds the direction e.

    Returns:
        A Consistency. "inconclusive" when the function fails at a shifted point, or a kink
        of some σ_l lies within the step (the one-sided slopes differ there).
    """
    network, params, X, T = problem
    rng = np.random.default_rng(seed)
    direction = [
        Layer(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params
    ]
    norm = math.sqrt(sum(float(np.sum(W * W) + np.sum(b * b)) for W, b in direction))
    direction = [Layer(W / norm, b / norm) for W, b in direction]
    slope = sum(
        float(np.sum(g.W * e.W) + np.sum(g.b * e.b))
        for g, e in zip(returned.grads, direction, strict=True)
    )

    def shifted(t: float) -> list[Layer]:
        return [Layer(p.W + t * e.W, p.b + t * e.b) for p, e in zip(params, direction, strict=True)]

    if _kink_within(network, [shifted(-STEP), params, shifted(STEP)], X):
        return Consistency("inconclusive", math.nan, slope, math.nan, "a kink lies within the step")

    def J_fn(t: float) -> float:
        value = unpack(call(fn, adapter, shifted(float(t)), X, T), adapter)
        if value.J is None or not math.isfinite(value.J):
            raise ValueError("no finite J")
        return value.J

    steps = nd.MaxStepGenerator(base_step=STEP, step_ratio=2.0, num_steps=NUM_STEPS)
    try:
        with np.errstate(all="ignore"):
            result = nd.Derivative(J_fn, step=steps, full_output=True)(0.0)
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        note = f"the function failed at a shifted point ({type(error).__name__})"
        return Consistency("inconclusive", math.nan, slope, math.nan, note)
    estimate, error = float(result.estimate), float(result.error_estimate)
    magnitude = sum(
        float(np.sum(np.abs(g.W * e.W)) + np.sum(np.abs(g.b * e.b)))
        for g, e in zip(returned.grads, direction, strict=True)
    )
    rounding = 64 * 2.0**-53 * max(1.0, abs(returned.J)) / float(result.final_step)
    allowed = 10 * error + 1e-7 * max(abs(estimate), magnitude) + rounding
    if abs(estimate - slope) <= allowed:
        return Consistency("consistent", estimate, slope, allowed, "⟨grad, e⟩ matches dJ/dt")
    note = "the returned gradient is not the gradient of the returned loss"
    return Consistency("inconsistent", estimate, slope, allowed, note)


def suite_agreement(problem: Problem) -> tuple[Comparison | str, ...]:
    """The contracted reference and autodiff against vectorized on `problem`, whole traces.

    Returns:
        Two Comparisons (``compare_backprop``, derived bounds, J included) — or, for an
        implementation that cannot run the problem, a string saying why.
    """
    from crosscheck import autodiff_oracle  # JAX: imported only when a failure needs it

    network, params, X, T = problem
    anchor = vectorized.backprop(network, params, X, T)
    J = vectorized.loss(network, params, X, T)
    results: list[Comparison | str] = []
    for name, module in (("reference (contracted)", reference), ("autodiff", autodiff_oracle)):
        try:
            other = module.backprop(network, params, X, T)
            other_J = module.loss(network, params, X, T)
        except NotImplementedError as error:
            results.append(f"{name}: {error}")
            continue
        comparison = compare_backprop(
            network,
            params,
            X,
            T,
            anchor,
            other,
            expected_loss=J,
            actual_loss=other_J,
            names=("vectorized", name),
        )
        results.append(comparison)
    return tuple(results)


def _forward(network: Any, params: Any, X: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Eq 1.4: [(Z^(l), A^(l)) for l = 1..L]."""
    A, out = X, []
    for l, (W, b) in enumerate(params, start=1):
        Z = W @ A + b[:, None]
        A = network.sigma(l).sigma(Z, NUMPY)
        out.append((Z, A))
    return out


def _kink_within(network: Any, points: list[list[Layer]], X: np.ndarray) -> bool:
    """True if some Z^(l) of a kinked σ_l reaches or crosses a kink between the points."""
    passes = [_forward(network, params, X) for params in points]
    for l in range(1, network.L + 1):
        for kink in network.sigma(l).kinks:
            sides = np.stack([np.sign(p[l - 1][0] - kink) for p in passes])
            if np.any(sides == 0) or np.any(sides.min(axis=0) != sides.max(axis=0)):
                return True
    return False
