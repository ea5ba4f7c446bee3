"""The known-bug catalogue: faulty backprop variants drawn from real-world mistakes (DESIGN §5).

Each ``Mutant`` is a backprop with one mistake, callable as ``fn(Ws, bs, X, T) -> (J, dWs,
dbs)`` in the suite's layout (``Ws[l-1]`` = W^(l) (S_l, S_{l-1}), X (S_0, N), T (S_L, N)),
once bound to an architecture's σ_1..σ_L, J and λ (``Mutant.bind``). They serve twice:

- ``crosscheck selftest``: ``check_gradients`` must reject every one under its ``settings``
  (the activations, loss, λ and sizes in which the mistake shows at all — σ' evaluated at A
  is invisible under identity, a missing 1/N at N = 1, a transposed ∂W when every W^(l) is
  square and symmetric...);
- diagnosis: on a failing example, every mutant is run and those whose output matches the
  function's name the bug (``crosscheck.oracle.diagnosis``). A mutant whose mistake lives in
  per-layer steps (``LAYER_STEPS``) is also run with the mistake in one layer l only
  (``Mutant.only_in_layer``), so a bug in one layer of several is named with that layer.

They are written here independently, plainly in NumPy (not from ``vectorized``'s internals):
``Backprop`` is a correct matrix-form backprop (eqs 1.4, 2.13–2.15, 2.21, 2.32–2.37, with the
extensions' fused output H of eqs 2.8', 2.8'' and softmax's Jacobian, eq 2.13'), written as
small steps; each mutant overrides exactly the step it gets wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crosscheck.ffnn import NUMPY, Network, weight_decay_term

Gradients = tuple[float, list[np.ndarray], list[np.ndarray]]


class Backprop:
    """A correct backprop for one architecture's σ_l, J and λ; widths are read from the arrays.

    Called as ``fn(Ws, bs, X, T) -> (J, dWs, dbs)``: Ws[l-1] (S_l, S_{l-1}), bs[l-1] (S_l,),
    X (S_0, N), T (S_L, N); returns J (+ (λ/2) Σ‖W‖²) as a float and lists dWs, dbs of
    float64 arrays of the parameters' shapes. Never writes to its inputs.
    """

    dtype: type = np.float64

    def __init__(self, activations: Sequence[str], loss: str, weight_decay: float) -> None:
        self.activations = tuple(activations)
        self.loss = loss
        self.lam = float(weight_decay)

    def __call__(self, Ws: Sequence[Any], bs: Sequence[Any], X: Any, T: Any) -> Gradients:
        Ws = [np.asarray(W, self.dtype) for W in Ws]
        bs = [np.asarray(b, self.dtype) for b in bs]
        X, T = np.asarray(X, self.dtype), np.asarray(T, self.dtype)
        sizes = (X.shape[0], *(W.shape[0] for W in Ws))
        self.net = Network(sizes, self.activations, self.loss, self.lam)
        self.N, self.bs = X.shape[1], bs
        Z, A = [None], [X]
        for l in range(1, len(Ws) + 1):  # eq 1.4
            Z.append(Ws[l - 1] @ A[l - 1] + bs[l - 1][:, None])
            A.append(self.net.sigma(l).sigma(Z[l], NUMPY))
        J = self.objective(Z[-1], A[-1], T, Ws)
        dWs, dbs = [], []
        L = len(Ws)
        Delta = self.net.J.Delta(A[L], T)
        H = self.output_H(Z[L], A[L], T, Delta)
        for l in range(L, 0, -1):
            dWs.insert(0, self.weight_gradient(l, H, A, Ws))
            dbs.insert(0, self.bias_gradient(l, H, Delta, bs))
            if l > 1:
                Delta = self.delta_below(l, Ws, H)  # eq 2.32: Δ^(l-1)
                H = self.hidden_H(l - 1, Z, A, Delta)
        return self.finish(float(J), dWs, dbs)

    def objective(self, Z_L: np.ndarray, A_L: np.ndarray, T: np.ndarray, Ws: list) -> float:
        """Eq 2.16 (2.16', 2.16''): J, plus (λ/2) Σ_l ‖W^(l)‖_F²."""
        return self.net.J.J(Z_L, A_L, T, NUMPY) + weight_decay_term(Ws, self.lam)

    def output_H(self, Z_L: np.ndarray, A_L: np.ndarray, T: np.ndarray, Delta) -> np.ndarray:
        """H^(L): fused (eqs 2.8', 2.8'') where the loss has it, else eq 2.13 from Δ^(L)."""
        if self.net.J.H is not None:
            return self.net.J.H(Z_L, A_L, T)
        return self.H(self.net.L, Z_L, A_L, Delta)

    def hidden_H(self, l: int, Z: list, A: list, Delta: np.ndarray) -> np.ndarray:
        """H^(l) of a hidden layer l < L (eq 2.34)."""
        return self.H(l, Z[l], A[l], Delta)

    def H(self, l: int, Z_l: np.ndarray, A_l: np.ndarray, Delta: np.ndarray) -> np.ndarray:
        """Eqs 2.13, 2.34: Δ ⊙ σ'(Z); softmax: per column J(n)ᵗ Δ_:n (eq 2.13')."""
        sigma = self.net.sigma(l)
        if sigma.elementwise:
            return Delta * sigma.sigma_prime(Z_l)
        return np.einsum("kjn,kn->jn", sigma.jacobian(Z_l), Delta)

    def weight_gradient(self, l: int, H: np.ndarray, A: list, Ws: list) -> np.ndarray:
        """Eqs 2.14, 2.33: H^(l) (A^(l-1))ᵗ + λ W^(l)."""
        return H @ A[l - 1].T + self.lam * Ws[l - 1]

    def bias_gradient(self, l: int, H: np.ndarray, Delta: np.ndarray, bs: list) -> np.ndarray:
        """Eqs 2.15, 2.37: H^(l) J_N, the row sums of H^(l)."""
        return H.sum(axis=1)

    def delta_below(self, l: int, Ws: list, H: np.ndarray) -> np.ndarray:
        """Eq 2.32: Δ^(l-1) = (W^(l))ᵗ H^(l)."""
        return Ws[l - 1].T @ H

    def finish(self, J: float, dWs: list, dbs: list) -> Gradients:
        """The returned value (J, dWs, dbs)."""
        return J, dWs, dbs


class _MissingOneOverN(Backprop):
    def output_H(self, Z_L, A_L, T, Delta):
        return super().output_H(Z_L, A_L, T, Delta) * self.N  # Δ^(L) = A − T, no 1/N


class _SummedOverSamples(_MissingOneOverN):
    def objective(self, Z_L, A_L, T, Ws):
        return self.net.J.J(Z_L, A_L, T, NUMPY) * self.N + weight_decay_term(Ws, self.lam)


class _MeanOverAllEntries(Backprop):
    def output_H(self, Z_L, A_L, T, Delta):
        return super().output_H(Z_L, A_L, T, Delta) * 2 / Z_L.shape[0]

    def objective(self, Z_L, A_L, T, Ws):
        J = self.net.J.J(Z_L, A_L, T, NUMPY) * 2 / Z_L.shape[0]  # mean of (A − T)², no ½
        return J + weight_decay_term(Ws, self.lam)


class _LossExtraHalf(Backprop):
    def objective(self, Z_L, A_L, T, Ws):
        return self.net.J.J(Z_L, A_L, T, NUMPY) / 2 + weight_decay_term(Ws, self.lam)


class _BiasAveragedTwice(Backprop):
    def bias_gradient(self, l, H, Delta, bs):
        return H.sum(axis=1) / self.N  # H already carries 1/N


class _BiasSummedOverUnits(Backprop):
    def bias_gradient(self, l, H, Delta, bs):
        return H.sum(axis=0)  # (N,): summed along the wrong axis


class _BiasGradientFromDelta(Backprop):
    def bias_gradient(self, l, H, Delta, bs):
        return Delta.sum(axis=1)  # Δ^(l) J_N: σ' left out of ∂J/∂b


class _SigmaPrimeAtA(Backprop):
    def H(self, l, Z_l, A_l, Delta):
        return super().H(l, A_l, A_l, Delta)  # σ'(A) instead of σ'(Z)


class _OutputDerivativeDropped(Backprop):
    def output_H(self, Z_L, A_L, T, Delta):
        return Delta  # H^(L) = Δ^(L): σ'_L forgotten


class _DeltaWithoutSigmaPrime(Backprop):
    def hidden_H(self, l, Z, A, Delta):
        return Delta  # H^(l) = Δ^(l) in hidden layers


class _SigmaPrimeOfNextLayer(Backprop):
    def hidden_H(self, l, Z, A, Delta):
        return super().H(l + 1, Z[l], A[l], Delta)  # σ'_{l+1} (the list index off by one)


class _SoftmaxElementwise(Backprop):
    def H(self, l, Z_l, A_l, Delta):
        if self.net.sigma(l).elementwise:
            return super().H(l, Z_l, A_l, Delta)
        return Delta * A_l * (1 - A_l)  # only the diagonal of the Jacobian


class _TransposedWeightGradient(Backprop):
    def weight_gradient(self, l, H, A, Ws):
        return A[l - 1] @ H.T + self.lam * Ws[l - 1].T  # (S_{l-1}, S_l)


class _WeightGradientWithOwnActivation(Backprop):
    def weight_gradient(self, l, H, A, Ws):
        return H @ A[l].T + self.lam * Ws[l - 1]  # A^(l) instead of A^(l-1)


class _DeltaRecursionWrongWeights(Backprop):
    def delta_below(self, l, Ws, H):
        return Ws[l - 2].T @ H  # W^(l-1) instead of W^(l)


class _SignFlipped(Backprop):
    def weight_gradient(self, l, H, A, Ws):
        return -super().weight_gradient(l, H, A, Ws)  # −∂J: the step of gradient ascent

    def bias_gradient(self, l, H, Delta, bs):
        return -super().bias_gradient(l, H, Delta, bs)


class _BiasMissingOneOverN(Backprop):
    def bias_gradient(self, l, H, Delta, bs):
        return H.sum(axis=1) * self.N  # Δ = A − T unscaled; ∂W divided by N, ∂b forgotten


class _WeightDecayMissing(Backprop):
    def weight_gradient(self, l, H, A, Ws):
        return H @ A[l - 1].T


class _WeightDecayOnBiases(Backprop):
    def bias_gradient(self, l, H, Delta, bs):
        return H.sum(axis=1) + self.lam * bs[l - 1]


class _WeightDecayOnBiasesInJ(_WeightDecayOnBiases):
    def objective(self, Z_L, A_L, T, Ws):
        return super().objective(Z_L, A_L, T, Ws) + weight_decay_term(self.bs, self.lam)


class _Float32Accumulation(Backprop):
    dtype = np.float32

    def finish(self, J, dWs, dbs):
        return J, [dW.astype(np.float64) for dW in dWs], [db.astype(np.float64) for db in dbs]


LAYER_STEPS = ("H", "hidden_H", "weight_gradient", "bias_gradient", "delta_below")
"""``Backprop`` steps that take the layer l as their first argument."""

GLOBAL_STEPS = ("objective", "output_H", "finish")
"""``Backprop`` steps without a layer argument (``output_H`` is layer L's)."""


def _only_in_layer(backprop: type[Backprop], layer: int) -> type[Backprop]:
    """A subclass of `backprop` whose per-layer steps are its own at l = `layer` only."""

    def restricted(name: str) -> Callable[..., Any]:
        faulty, correct = getattr(backprop, name), getattr(Backprop, name)

        def step(self: Backprop, l: int, *args: Any) -> Any:
            return (faulty if l == layer else correct)(self, l, *args)

        return step

    def output_H(self: Backprop, Z_L: Any, A_L: Any, T: Any, Delta: Any) -> Any:
        chosen = backprop if layer == self.net.L else Backprop
        return chosen.output_H(self, Z_L, A_L, T, Delta)

    steps: dict[str, Any] = {name: restricted(name) for name in LAYER_STEPS}
    steps["output_H"] = output_H
    return type(f"{backprop.__name__}_in_layer_{layer}", (backprop,), steps)


@dataclass(frozen=True)
class Mutant:
    """One catalogued bug.

    Attributes:
        name: identifier, e.g. ``"missing_1_over_N"``.
        diagnosis: what the bug is, as a report names it.
        backprop: the faulty ``Backprop`` subclass.
        settings: keyword arguments of ``check_gradients`` under which the bug shows
            (activations, and where needed loss, weight_decay, sizes).
        invisible: where the bug cannot show (for the catalogue's documentation).
    """

    name: str
    diagnosis: str
    backprop: type[Backprop]
    settings: dict[str, Any]
    invisible: str

    def bind(
        self, activations: Sequence[str], loss: str = "squared_error", weight_decay: float = 0.0
    ) -> Callable[..., Gradients]:
        """``fn(Ws, bs, X, T) -> (J, dWs, dbs)`` for σ_1..σ_L = `activations`, J and λ.

        Raises:
            Nothing when binding; calling raises what NumPy or ffnn raise on the arrays (an
            unknown activation name, shapes that a mistaken product cannot take).
        """
        return self.backprop(activations, loss, weight_decay)

    def function(self) -> Callable[..., Gradients]:
        """The mutant bound to its own ``settings``."""
        s = self.settings
        return self.bind(s["activations"], s.get("loss", "squared_error"), s.get("weight_decay", 0))

    @property
    def per_layer(self) -> bool:
        """True if the mistake lives in per-layer steps only (``LAYER_STEPS``, and H^(L) of
        ``output_H`` as layer L's), with at least one step taking l: it can be made in one
        layer alone. Mistakes in J, in the returned value or in the dtype cannot."""
        changed = {
            name
            for name in (*LAYER_STEPS, *GLOBAL_STEPS)
            if getattr(self.backprop, name) is not getattr(Backprop, name)
        }
        changed |= {"dtype"} if self.backprop.dtype is not Backprop.dtype else set()
        return bool(changed & set(LAYER_STEPS)) and changed <= {*LAYER_STEPS, "output_H"}

    def only_in_layer(
        self,
        layer: int,
        activations: Sequence[str],
        loss: str = "squared_error",
        weight_decay: float = 0.0,
    ) -> Callable[..., Gradients]:
        """Like ``bind``, with the mistake made in layer `layer` alone: each per-layer step
        (``LAYER_STEPS``; ``output_H`` counts as layer L's) is the mutant's at l = `layer`
        and the correct one elsewhere.

        Raises:
            ValueError: the mutant is not ``per_layer``, or `layer` < 1.
        """
        if not self.per_layer:
            raise ValueError(f"{self.name} is not a per-layer mistake")
        if layer < 1:
            raise ValueError(f"layer must be >= 1, got {layer}")
        return _only_in_layer(self.backprop, layer)(activations, loss, weight_decay)


_TANH_ID = {"activations": ("tanh", "identity")}
_TANH_SIG = {"activations": ("tanh", "sigmoid")}
_DEEP = {"activations": ("tanh", "tanh", "identity")}
_DECAY = {"activations": ("tanh", "identity"), "weight_decay": 0.1}

CATALOGUE: tuple[Mutant, ...] = (
    Mutant(
        "missing_1_over_N",
        "missing 1/N: gradients summed over the N samples, not averaged (theirs = N·ours)",
        _MissingOneOverN,
        _TANH_ID,
        "N = 1",
    ),
    Mutant(
        "summed_over_samples",
        "loss and gradients summed over the samples (J and ∂J both N times ours): a"
        " consistent convention, not eq 2.16's average",
        _SummedOverSamples,
        _TANH_ID,
        "N = 1",
    ),
    Mutant(
        "mean_over_all_entries",
        "'MSE' convention: squared error averaged over the S_L·N entries without ½"
        " (J and ∂J both 2/S_L times ours)",
        _MeanOverAllEntries,
        _TANH_ID,
        "S_L = 2",
    ),
    Mutant(
        "loss_extra_half",
        "loss with an extra ½ (J/2); the gradient is right",
        _LossExtraHalf,
        _TANH_ID,
        "J = 0 (an exact fit)",
    ),
    Mutant(
        "bias_averaged_twice",
        "bias gradient averaged twice: ∂J/∂b = H J_N / N (theirs = ours/N)",
        _BiasAveragedTwice,
        _TANH_ID,
        "N = 1",
    ),
    Mutant(
        "bias_summed_over_units",
        "bias gradient summed along the wrong axis (over units, giving (N,), not (S_l,))",
        _BiasSummedOverUnits,
        _TANH_ID,
        "S_l = N = 1",
    ),
    Mutant(
        "bias_gradient_from_delta",
        "bias gradient from Δ^(l) instead of H^(l) (σ' left out of ∂J/∂b, eqs 2.15, 2.37)",
        _BiasGradientFromDelta,
        _TANH_SIG,
        "identity activations",
    ),
    Mutant(
        "sigma_prime_at_A",
        "σ' evaluated at A = σ(Z) instead of at Z (eqs 2.13, 2.34)",
        _SigmaPrimeAtA,
        _TANH_SIG,
        "identity, ReLU (σ'(σ(z)) = σ'(z))",
    ),
    Mutant(
        "output_derivative_dropped",
        "derivative dropped in the output layer: H^(L) = Δ^(L) without σ'_L (eq 2.13)",
        _OutputDerivativeDropped,
        _TANH_SIG,
        "identity output",
    ),
    Mutant(
        "delta_without_sigma_prime",
        "Δ recursion without σ': H^(l) = Δ^(l) in hidden layers (eq 2.34)",
        _DeltaWithoutSigmaPrime,
        _DEEP,
        "L = 1, identity hidden layers",
    ),
    Mutant(
        "sigma_prime_of_next_layer",
        "σ' from the wrong layer: σ'_{l+1} used in layer l (eq 2.34)",
        _SigmaPrimeOfNextLayer,
        _TANH_SIG,
        "L = 1, equal activations in adjacent layers",
    ),
    Mutant(
        "softmax_elementwise",
        "softmax treated as elementwise: σ' = A(1 − A), the Jacobian's off-diagonal"
        " −A_k A_k' dropped (eq 2.13')",
        _SoftmaxElementwise,
        {"activations": ("tanh", "softmax")},
        "no softmax layer, S_l = 1",
    ),
    Mutant(
        "transposed_weight_gradient",
        "transposed weight gradient: ∂J/∂W^(l) = A^(l-1) (H^(l))ᵗ, shape (S_{l-1}, S_l)"
        " (or pass weights='in_out' if that is the layout)",
        _TransposedWeightGradient,
        _TANH_ID,
        "every W^(l) square with a symmetric gradient (e.g. sizes all 1)",
    ),
    Mutant(
        "weight_gradient_with_own_activation",
        "∂J/∂W^(l) = H^(l) (A^(l))ᵗ: A^(l) used instead of A^(l-1) (eqs 2.14, 2.33)",
        _WeightGradientWithOwnActivation,
        _TANH_ID,
        "never when S_l ≠ S_{l-1} (a shape error); rarely otherwise",
    ),
    Mutant(
        "delta_recursion_wrong_weights",
        "off-by-one layer in the Δ recursion: Δ^(l-1) = (W^(l-1))ᵗ H^(l) instead of"
        " (W^(l))ᵗ H^(l) (eq 2.32)",
        _DeltaRecursionWrongWeights,
        {**_DEEP, "sizes": (2, 2, 2, 2)},
        "L = 1, equal weights in adjacent layers",
    ),
    Mutant(
        "sign_flipped",
        "sign error: the gradients are −∂J (gradient ascent)",
        _SignFlipped,
        _TANH_ID,
        "a zero gradient",
    ),
    Mutant(
        "weight_decay_missing",
        "weight decay missing from ∂J/∂W^(l) (λ W^(l) not added)",
        _WeightDecayMissing,
        _DECAY,
        "λ = 0",
    ),
    Mutant(
        "weight_decay_on_biases",
        "weight decay applied to biases in the gradient (λ b^(l) added to ∂J/∂b^(l); biases are"
        " not decayed)",
        _WeightDecayOnBiases,
        _DECAY,
        "λ = 0, b = 0",
    ),
    Mutant(
        "bias_missing_1_over_N",
        "bias gradients not averaged: ∂J/∂b^(l) = N·H^(l) J_N (the 1/N left out of ∂b alone;"
        " theirs = N·ours)",
        _BiasMissingOneOverN,
        _TANH_ID,
        "N = 1",
    ),
    Mutant(
        "weight_decay_on_biases_in_J",
        "weight decay applied to biases in J and gradient alike ((λ/2)Σ‖b^(l)‖² added to J,"
        " λ b^(l) to ∂J/∂b^(l); biases are not decayed)",
        _WeightDecayOnBiasesInJ,
        _DECAY,
        "λ = 0, b = 0",
    ),
    Mutant(
        "float32_accumulation",
        "float32 accumulation: computed in single precision, returned as float64",
        _Float32Accumulation,
        _TANH_ID,
        "values exact in float32",
    ),
)
"""Every catalogued bug, in the order the kill table lists them."""

MUTANTS: dict[str, Mutant] = {mutant.name: mutant for mutant in CATALOGUE}
"""Name → Mutant."""
