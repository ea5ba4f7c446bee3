"""What a function's value is, quantity by quantity and layer by layer, in terms of the suite's.

When a function's J, ∂J/∂W^(l) or ∂J/∂b^(l) disagree with the suite's, ``relations`` states
for each of them on its own the first of these that holds (DESIGN §5, "a diagnosis ... states
the relation it sees per quantity"):

1. **agrees**: within the allowed error on every entry — noting when the suite's value is
   itself below its bound everywhere (e.g. ∂J/∂W^(l) at X = 0), where a factor could not show;
2. **zero**: |F| within the allowed error of 0 on every entry, the suite's value not;
3. **a named factor** c × the suite's value: −1, 2, ½, N, 1/N, S_L, 1/S_L, 2/S_L (values that
   coincide are named together, "2 = N"; two distinct ones that both fit say nothing);
4. **a form** of the suite's value, times 1 or a named factor: transposed (∂W^(l)ᵗ, when the
   shapes allow), transposed then reshaped to the suite's shape, reshaped; without the
   weight decay (H^(l) A^(l-1)ᵗ); the loss term scaled and λW^(l) kept; with λb^(l) added
   (weight decay on the biases); without the σ'_l factor (Δ^(l) in place of H^(l), eqs 2.13,
   2.34); the suite's value on the problem with a square W^(k) used transposed
   (Z^(k) = W^(k)ᵗ A^(k-1)), as it is or transposed;
5. **a constant ratio** c × the suite's value (or its transpose), c measured at the entry
   where the suite's value is largest against its bound;
6. **unrelated**.

Honesty: a claim F = c·G + K is made only if on **every** entry
|F − (c·G + K)| <= |c|·B_G + B_K + 2u·|c·G + K| (``crosscheck.compare.bounds.scaled_allowed``),
where B_G is the allowed error of G — for the suite's value the judge's per-entry allowed
error (``crosscheck.oracle.expected``), for the value without σ'_l the same running-error
rules (``bounds.without_sigma_prime_allowed``) — B_K that of the fixed part (γ_3·λ|W| per
side for a decay term, ``bounds.decay_term_allowed``), and 2u the rounding of the scaling
itself; and only if c·G + K exceeds that allowance somewhere (the claimed value is not
indistinguishable from 0). A measured ratio c = F_k/G_k carries the error of G_k into every
other entry: the allowance there grows by |c|·B_k·|G_j|/|G_k|
(``bounds.measured_ratio_allowed``). Every allowed error is computed in
``crosscheck.compare.bounds``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from crosscheck.compare.bounds import (
    decay_term_allowed,
    measured_ratio_allowed,
    scaled_allowed,
    without_sigma_prime_allowed,
)
from crosscheck.ffnn import Layer
from crosscheck.oracle.expected import Expected, expected_values
from crosscheck.oracle.layouts import Returned
from crosscheck.strategies import Problem


@dataclass(frozen=True)
class Relation:
    """The function's value of one quantity in terms of the suite's.

    Attributes:
        quantity: ``"J"``, ``"W"`` (∂J/∂W^(l)) or ``"b"`` (∂J/∂b^(l)).
        layer: l (1..L); None for J.
        kind: ``"agrees"``, ``"zero"``, ``"factor"`` (a named factor of the suite's value),
            ``"form"`` (a transposed, reshaped or term-changed form, possibly times a named
            factor), ``"ratio"`` (a measured constant ratio) or ``"unrelated"``.
        text: the relation in words, free of the layer's number, e.g. "N × the suite's
            (N = 4)", so equal relations of several layers read alike.
        factor: c (1.0 for a form alone), or None for agrees/zero/unrelated.
        form: the form's key (``"suite"``, ``"transposed"``, ``"transposed_reshaped"``,
            ``"reshaped"``, ``"without_decay"``, ``"loss_term"``, ``"bias_decay"``,
            ``"without_sigma_prime"``, ``"W^(k)_transposed"``, ...), or None.
        negligible: for ``"agrees"``: the suite's value is within its bound of 0 on every
            entry, so a factor or a sign could not show in this quantity here.
    """

    quantity: str
    layer: int | None
    kind: str
    text: str
    factor: float | None = None
    form: str | None = None
    negligible: bool = False

    @property
    def label(self) -> str:
        """``"J"``, ``"∂J/∂W^(l)"`` or ``"∂J/∂b^(l)"``."""
        return "J" if self.layer is None else f"∂J/∂{self.quantity}^({self.layer})"

    @property
    def differs(self) -> bool:
        """True unless the function's value agrees with the suite's."""
        return self.kind != "agrees"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "quantity": self.quantity,
            "layer": self.layer,
            "label": self.label,
            "kind": self.kind,
            "text": self.text,
            "factor": self.factor,
            "form": self.form,
            "negligible": self.negligible,
        }


class Form(NamedTuple):
    """A candidate value c·G + K of one array, with the allowed errors B_G of G, B_K of K.

    key: short name (``Relation.form``); text: the form in words ("the suite's
    transposed"); generic: whether a measured ratio may be tried on it (the suite's value
    and its transposes: a ratio to a form with a missing term would say little).
    """

    key: str
    text: str
    G: np.ndarray
    B_G: np.ndarray
    K: np.ndarray | float = 0.0
    B_K: np.ndarray | float = 0.0
    generic: bool = False


class Factor(NamedTuple):
    """A named factor: its value, its name ("2 = N") and the symbols' values ("N = 2")."""

    value: float
    name: str
    symbols: str


def named_factors(N: int, S_L: int) -> list[Factor]:
    """The named factors −1, 2, ½, N, 1/N, S_L, 1/S_L, 2/S_L; values equal to 1 left out, those
    of S_L at S_L = 1 too (2/S_L = 2 says nothing then), and equal values named together (at
    N = 2: "2 = N", "½ = 1/N")."""
    merged: dict[float, list[str]] = {}
    for value, name in (
        (-1.0, "−1"),
        (2.0, "2"),
        (0.5, "½"),
        (float(N), "N"),
        (1 / N, "1/N"),
        (float(S_L), "S_L"),
        (1 / S_L, "1/S_L"),
        (2 / S_L, "2/S_L"),
    ):
        if value != 1.0 and not ("S_L" in name and S_L == 1):
            merged.setdefault(value, []).append(name)
    factors = []
    for value, names in merged.items():
        name = " = ".join(names)
        symbols = [f"N = {N}"] if "N" in name.replace("S_L", "") else []
        symbols += [f"S_L = {S_L}"] if "S_L" in name else []
        factors.append(Factor(value, name, ", ".join(symbols)))
    return factors


def number_text(value: float) -> str:
    """A factor for people: ``4``, ``1/3``, ``-0.5``, ``0.731245`` (a fraction when it is one
    with a small denominator, to float64's precision)."""
    fraction = Fraction(value).limit_denominator(64)
    if fraction.denominator > 1 and float(fraction) == value:
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{value:.6g}"


def within(F: np.ndarray, form: Form, c: float) -> bool:
    """F = c·G + K on every entry within |c|·B_G + B_K + 2u|c·G + K| (module docstring)."""
    if F.shape != form.G.shape:
        return False
    with np.errstate(all="ignore"):
        value = c * form.G + form.K
        allowed = scaled_allowed(c, form.B_G, form.B_K, value)
        return bool(np.all(np.abs(F - value) <= allowed))


def fits(F: np.ndarray, form: Form, c: float) -> bool:
    """``within``, and c·G + K beyond that allowance of 0 on at least one entry (a claim that
    could not be told from "F = 0" is not made)."""
    if not within(F, form, c):
        return False
    with np.errstate(all="ignore"):
        value = c * form.G + form.K
        allowed = scaled_allowed(c, form.B_G, form.B_K, value)
        return bool(np.any(np.abs(value) > allowed))


def measured_ratio(F: np.ndarray, form: Form) -> float | None:
    """c = F_k/G_k at the entry k where |G|/B_G is largest, if F = c·G holds on every entry
    (the allowance widened by c's own uncertainty, module docstring); else None."""
    if F.shape != form.G.shape:
        return None
    with np.errstate(all="ignore"):
        visible = np.abs(form.G) > form.B_G
        if not np.any(visible):
            return None
        k = np.unravel_index(np.argmax(np.where(visible, np.abs(form.G) / form.B_G, 0.0)), F.shape)
        c = float(F[k] / form.G[k])
        if c == 0 or not np.isfinite(c):
            return None
        allowed = measured_ratio_allowed(c, form.G, form.B_G, k)
        return c if bool(np.all(np.abs(F - c * form.G) <= allowed)) else None


def relations(
    problem: Problem, returned: Returned, expected: Expected | None = None
) -> tuple[Relation, ...]:
    """The relation of each returned quantity to the suite's (module docstring).

    Args:
        problem: the example, suite layout: W^(l) (S_l, S_{l-1}), b^(l) (S_l,), X (S_0, N),
            T (S_L, N).
        returned: the function's output in the suite's layout (shapes may be wrong).
        expected: the suite's values on `problem` (computed if not given).

    Returns:
        J's relation (if the function returned J), then ∂J/∂W^(l), ∂J/∂b^(l) for
        l = L..1, in the comparison table's order; empty if the function returned gradients
        for another number of layers.
    """
    network, X = problem.network, problem.X
    L, N, S_L = network.L, X.shape[1], network.sizes[-1]
    if len(returned.grads) != L:
        return ()
    expected = expected or expected_values(problem)
    variants = _transposed_weight_variants(problem)
    factors = named_factors(N, S_L)
    out = []
    if returned.J is not None:
        out.append(_relate_J(returned.J, expected, variants, factors))
    for l in range(L, 0, -1):
        for quantity in "Wb":
            F = np.asarray(getattr(returned.grads[l - 1], quantity), dtype=np.float64)
            forms = _forms(problem, expected, variants, l, quantity, F.shape)
            out.append(_relate(quantity, l, F, forms, factors))
    return tuple(out)


def touched(found: Sequence[Relation]) -> str:
    """Which quantities and layers the relations show differing, e.g. ``"J; ∂J/∂b^(l) in
    layers 2, 1 (agree: ∂J/∂W^(l) in every layer)"``."""
    parts, agreeing = [], []
    if any(r.quantity == "J" for r in found):
        (J,) = [r for r in found if r.quantity == "J"]
        (parts if J.differs else agreeing).append("J")
    for quantity in "Wb":
        rows = [r for r in found if r.quantity == quantity]
        layers = [str(r.layer) for r in rows if r.differs]
        symbol = f"∂J/∂{quantity}^(l)"
        if not layers:
            agreeing.append(f"{symbol} in every layer")
        elif len(layers) == len(rows):
            parts.append(f"{symbol} in every layer")
        else:
            parts.append(f"{symbol} in layer{'s' if len(layers) > 1 else ''} {', '.join(layers)}")
    text = "; ".join(parts) if parts else "nothing"
    return text + (f" (agree: {', '.join(agreeing)})" if agreeing else "")


def _relate(
    quantity: str, l: int | None, F: np.ndarray, forms: list[Form], factors: list[Factor]
) -> Relation:
    suite = forms[0]
    if F.shape == suite.G.shape:
        with np.errstate(all="ignore"):
            if np.all(np.abs(F - suite.G) <= suite.B_G):
                negligible = bool(np.all(np.abs(suite.G) <= suite.B_G))
                text = "agrees" + (NEGLIGIBLE if negligible else "")
                return Relation(quantity, l, "agrees", text, negligible=negligible)
            if np.all(np.abs(F) <= suite.B_G):
                return Relation(quantity, l, "zero", "is 0 (within the bound); the suite's is not")
    found = _named(F, suite, factors)
    if found is not None:
        c, text = found
        return Relation(quantity, l, "factor", text, c, suite.key)
    for form in forms[1:]:
        if fits(F, form, 1.0):
            return Relation(quantity, l, "form", form.text, 1.0, form.key)
    for form in forms[1:]:
        found = _named(F, form, factors)
        if found is not None:
            c, text = found
            return Relation(quantity, l, "form", text, c, form.key)
    for form in forms:
        c = measured_ratio(F, form) if form.generic else None
        if c is not None:
            ratio = " (a constant ratio" + _entries(form) + ")" if form.G.size > 1 else ""
            text = f"{number_text(c)} × {form.text}{ratio}"
            return Relation(quantity, l, "ratio", text, c, form.key)
    shape = "" if F.shape == suite.G.shape else f", shape {F.shape} for {suite.G.shape}"
    return Relation(quantity, l, "unrelated", UNRELATED + shape)


NEGLIGIBLE = ", but the suite's value is within its bound of 0 here: a factor could not show"
UNRELATED = "unrelated (no factor, transpose, zero or missing term fits every entry)"


def _relate_J(
    J: float, expected: Expected, variants: list[tuple[int, Expected]], factors: list[Factor]
) -> Relation:
    F = np.asarray(J, dtype=np.float64)
    suite = Form(
        "suite", "the suite's", np.asarray(expected.J), np.asarray(expected.allowed_J), generic=True
    )
    forms = [suite] + [
        Form(
            f"W^({k})_transposed",
            _used_transposed_text(k),
            np.asarray(variant.J),
            np.asarray(variant.allowed_J),
        )
        for k, variant in variants
    ]
    return _relate("J", None, F, forms, factors)


def _named(F: np.ndarray, form: Form, factors: list[Factor]) -> tuple[float, str] | None:
    """(c, "c × form") for the one named factor c with F = c·(form); None if none fits or
    two distinct ones do."""
    fitting = [factor for factor in factors if fits(F, form, factor.value)]
    if len(fitting) != 1:
        return None
    value, name, symbols = fitting[0]
    return value, f"{name} × {form.text}" + (f" ({symbols})" if symbols else "")


def _entries(form: Form) -> str:
    """How many entries a measured ratio rests on, where that is one of several."""
    visible = int(np.count_nonzero(np.abs(form.G) > form.B_G))
    return " on its only non-negligible entry" if visible == 1 < form.G.size else ""


def _forms(
    problem: Problem,
    expected: Expected,
    variants: list[tuple[int, Expected]],
    l: int,
    quantity: str,
    shape: tuple[int, ...],
) -> list[Form]:
    """The candidate forms of ∂J/∂W^(l) or ∂J/∂b^(l), the suite's value first."""
    network, params = problem.network, problem.params
    lam = network.weight_decay
    E = getattr(expected.grads[l - 1], quantity)
    B = getattr(expected.allowed[l - 1], quantity)
    forms = [Form("suite", "the suite's", E, B, generic=True)]
    if quantity == "W":
        forms += _reshaped(E, B, shape)
        W = np.asarray(params[l - 1].W, dtype=np.float64)
        decay = lam * W
        decay_bound = decay_term_allowed(decay)
        if lam > 0:
            forms += [
                Form(
                    "without_decay",
                    "the suite's without weight decay (λW^(l) left out)",
                    E - decay,
                    B,
                ),
                Form(
                    "loss_term",
                    "the loss term's part, λW^(l) as the suite's",
                    E - decay,
                    B,
                    decay,
                    decay_bound,
                ),
            ]
    else:
        b = np.asarray(params[l - 1].b, dtype=np.float64)
        decay = lam * b
        decay_bound = decay_term_allowed(decay)
        if lam > 0 and np.any(b != 0):
            forms.append(
                Form(
                    "bias_decay",
                    "the suite's with λb^(l) added (weight decay on the biases)",
                    E,
                    B,
                    decay,
                    decay_bound,
                )
            )
    forms += _without_sigma_prime(problem, expected, l, quantity, decay, decay_bound)
    for k, variant in variants:
        E_k = getattr(variant.grads[l - 1], quantity)
        B_k = getattr(variant.allowed[l - 1], quantity)
        forms.append(Form(f"W^({k})_transposed", _used_transposed_text(k), E_k, B_k))
        if quantity == "W" and l == k:
            forms.append(
                Form(
                    f"W^({k})_transposed_back",
                    _used_transposed_text(k) + ", transposed back",
                    E_k.T,
                    B_k.T,
                )
            )
    return forms


def _reshaped(E: np.ndarray, B: np.ndarray, shape: tuple[int, ...]) -> list[Form]:
    """∂W^(l)ᵗ (when `shape` is its shape), ∂W^(l)ᵗ reshaped and ∂W^(l) reshaped to `shape`."""
    forms = []
    if shape == E.T.shape and not np.array_equal(E.T, E):
        forms.append(Form("transposed", "the suite's transposed", E.T, B.T, generic=True))
    if math.prod(shape) == E.size and shape != E.T.shape:
        forms.append(
            Form(
                "transposed_reshaped",
                f"the suite's transposed, then reshaped to {shape}",
                E.T.reshape(shape),
                B.T.reshape(shape),
                generic=True,
            )
        )
    if math.prod(shape) == E.size and shape not in (E.shape, E.T.shape):
        forms.append(
            Form("reshaped", f"the suite's reshaped to {shape}", E.reshape(shape), B.reshape(shape))
        )
    return forms


def _without_sigma_prime(
    problem: Problem,
    expected: Expected,
    l: int,
    quantity: str,
    decay: np.ndarray,
    decay_bound: np.ndarray,
) -> list[Form]:
    """∂W^(l) = Δ^(l) A^(l-1)ᵗ (+ λW), ∂b^(l) = Δ^(l) J_N: H^(l) replaced by Δ^(l) (eqs 2.13,
    2.34 without σ'_l), with both sides' bounds (``bounds.without_sigma_prime_allowed``)."""
    network = problem.network
    sigma = network.sigma(l)
    if not sigma.elementwise or sigma.name == "identity":
        return []
    trace, bounds = expected.trace, expected.bounds
    Delta = np.asarray(trace.Delta[l], dtype=np.float64)
    if not (np.all(np.isfinite(Delta)) and np.all(np.isfinite(bounds.Delta[l]))):
        return []
    text = "the value without the σ'_l factor (Δ^(l) in place of H^(l))"
    allowed = without_sigma_prime_allowed(trace, bounds, l)
    if quantity == "b":
        return [Form("without_sigma_prime", text, Delta.sum(axis=1), allowed.b)]
    A_prev = np.asarray(trace.A[l - 1], dtype=np.float64)
    return [Form("without_sigma_prime", text, Delta @ A_prev.T, allowed.W, decay, decay_bound)]


def _transposed_weight_variants(problem: Problem) -> list[tuple[int, Expected]]:
    """(k, the suite's values with W^(k) replaced by W^(k)ᵗ) for each square, non-symmetric
    W^(k): what a function computes that uses W^(k) transposed (Z^(k) = W^(k)ᵗ A^(k-1))."""
    network, params, X, T = problem
    variants = []
    for k, (W, _) in enumerate(params, start=1):
        if W.shape[0] == W.shape[1] and not np.array_equal(W, W.T):
            swapped = tuple(
                Layer(np.ascontiguousarray(P.W.T), P.b) if j == k else P
                for j, P in enumerate(params, start=1)
            )
            variants.append((k, expected_values(Problem(network, swapped, X, T))))
    return variants


def _used_transposed_text(k: int) -> str:
    return f"the suite's value with W^({k}) used transposed (Z^({k}) = W^({k})ᵗ A^({k - 1}))"
