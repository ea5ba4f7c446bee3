"""PyTorch autograd as an implementation under test: ``nn.Sequential`` of ``nn.Linear`` layers.

``torch_backprop(activations, loss=..., weight_decay=...)`` returns
``fn(Ws, bs, X, T) -> (J, dWs, dbs)`` in the suite's conventions (eqs 1.4, 2.16, 2.14/2.33,
2.15/2.37). Inside, everything is PyTorch's own: the network is an ``nn.Sequential`` of
``nn.Linear(S_{l-1}, S_l)`` (whose ``weight`` is (S_l, S_{l-1}), the seed's W^(l)) and
activation modules, in float64 (or float32 with ``dtype="float32"``), samples as rows (X
transposed), and the gradients come from ``J.backward()``.

Translations (conventions only; PyTorch's numerics are left alone):
- squared_error: J = Σ (A − T)² / (2N) (eq 2.16; not ``nn.MSELoss``'s mean over all
  entries without ½);
- cross_entropy: the model stops at the logits Z^(L) and J = ``functional.cross_entropy(Z, T)``
  with probability targets (mean over the N samples: eq 2.16');
- binary_cross_entropy: J = ``binary_cross_entropy_with_logits(Z, T, reduction="sum")``
  / N (eq 2.16''; PyTorch's "mean" would also divide by S_L);
- weight decay: (λ/2) Σ_l ‖W^(l)‖_F² added to J; biases not decayed.

Activation modules (``TORCH_ACTIVATIONS``) are PyTorch's defaults except where the suite
fixes a parameter: LeakyReLU(0.01), ELU(α = 1), GELU(approximate="none"), Softplus(β = 1,
threshold = 20) — PyTorch's default threshold, kept on purpose: above it PyTorch returns z
itself (and derivative 1) instead of log(1 + e^z), a real difference from the exact
softplus that the tests record. Softmax acts over features (dim=1 of the (N, S_l) rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from crosscheck.ffnn import ACTIVATIONS, LOSSES

TORCH_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "identity": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(negative_slope=0.01),
    "softplus": lambda: nn.Softplus(beta=1.0, threshold=20.0),
    "elu": lambda: nn.ELU(alpha=1.0),
    "gelu": lambda: nn.GELU(approximate="none"),
    "softmax": lambda: nn.Softmax(dim=1),
}
"""Our activation name → a factory of the PyTorch module computing it on (N, S_l) rows."""

_FROM_LOGITS = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
"""Losses PyTorch computes from the logits Z^(L), with the output σ_L they absorb."""

Backprop = Callable[
    [Sequence[np.ndarray], Sequence[np.ndarray], np.ndarray, np.ndarray],
    tuple[float, list[np.ndarray], list[np.ndarray]],
]


DTYPES = {"float64": torch.float64, "float32": torch.float32}
"""The dtypes the adapter computes in: name → torch dtype."""


def torch_sequential(
    sizes: Sequence[int], activations: Sequence[str], dtype: str = "float64"
) -> nn.Sequential:
    """The PyTorch model of eq 1.4: Linear(S_0, S_1), σ_1, ..., Linear(S_{L-1}, S_L), σ_L.

    Args:
        sizes: (S_0, ..., S_L), each >= 1.
        activations: L names from ``TORCH_ACTIVATIONS``, σ_1..σ_L.
        dtype: ``"float64"`` (default) or ``"float32"``, the model's parameters.

    Returns:
        An ``nn.Sequential`` in `dtype` of 2L modules (Linear at even positions), taking
        (N, S_0) rows to (N, S_L); weights are PyTorch's random initialisation.

    Raises:
        ValueError: len(activations) != len(sizes) − 1, an unknown activation name or dtype.
    """
    activations = _checked_activations(activations)
    torch_dtype = _checked_dtype(dtype)
    if len(sizes) != len(activations) + 1:
        raise ValueError(
            f"sizes {tuple(sizes)} need {len(sizes) - 1} activations, got {len(activations)}"
        )
    modules: list[nn.Module] = []
    for l, name in enumerate(activations, start=1):
        modules.append(nn.Linear(sizes[l - 1], sizes[l], dtype=torch_dtype))
        modules.append(TORCH_ACTIVATIONS[name]())
    return nn.Sequential(*modules)


def torch_backprop(
    activations: Sequence[str],
    *,
    loss: str = "squared_error",
    weight_decay: float = 0.0,
    dtype: str = "float64",
) -> Backprop:
    """PyTorch autograd's J and ∂J/∂W^(l), ∂J/∂b^(l) (eqs 2.16, 2.14/2.33, 2.15/2.37).

    Args:
        activations: σ_1..σ_L, names from ``TORCH_ACTIVATIONS``.
        loss: ``"squared_error"`` (eq 2.16), ``"cross_entropy"`` (σ_L must be softmax; eq
            2.16') or ``"binary_cross_entropy"`` (σ_L must be sigmoid; eq 2.16'').
        weight_decay: λ >= 0; J gains (λ/2) Σ_l ‖W^(l)‖_F².
        dtype: ``"float64"`` (default) or ``"float32"``: PyTorch computes in it, the inputs
            converted (rounded to nearest) on the way in.

    Returns:
        ``fn(Ws, bs, X, T) -> (J, dWs, dbs)`` with ``Ws[l-1]`` (S_l, S_{l-1}), ``bs[l-1]``
        (S_l,), X (S_0, N), T (S_L, N) (any real dtype; computed in `dtype`); J a float,
        ``dWs``/``dbs`` new arrays of `dtype` in the parameters' shapes. ``fn`` copies its
        inputs and never writes to them; it raises ValueError if len(Ws) != L.

    Raises:
        TypeError: a non-string loss name.
        ValueError: an unknown activation, loss or dtype, a loss whose required σ_L is not
            the last activation, a negative or non-finite weight_decay.
    """
    activations = _checked_activations(activations)
    _checked_dtype(dtype)
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a str, got {loss!r}")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    if loss in _FROM_LOGITS and activations[-1] != _FROM_LOGITS[loss]:
        raise ValueError(
            f"loss {loss!r} needs σ_L = {_FROM_LOGITS[loss]!r}, got {activations[-1]!r}"
        )
    if not (np.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be finite and >= 0, got {weight_decay!r}")
    # Cross-entropy losses take the logits: the model stops before σ_L.
    body = activations[:-1] + (("identity",) if loss in _FROM_LOGITS else activations[-1:])

    def fn(
        Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], X: np.ndarray, T: np.ndarray
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        if len(Ws) != len(activations) or len(bs) != len(activations):
            raise ValueError(
                f"{len(activations)} activations need {len(activations)} layers,"
                f" got {len(Ws)} weights and {len(bs)} biases"
            )
        sizes = [np.shape(Ws[0])[1], *(np.shape(W)[0] for W in Ws)]
        model = torch_sequential(sizes, body, dtype)
        linears = [module for module in model if isinstance(module, nn.Linear)]
        with torch.no_grad():
            for linear, W, b in zip(linears, Ws, bs, strict=True):
                linear.weight.copy_(_tensor(W, dtype))  # nn.Linear's weight: (S_l, S_{l-1})
                linear.bias.copy_(_tensor(b, dtype))
        rows, targets = _tensor(X, dtype).T, _tensor(T, dtype).T  # samples as rows
        J = _loss(loss, model(rows), targets)
        if weight_decay:
            J = J + 0.5 * weight_decay * sum((linear.weight**2).sum() for linear in linears)
        J.backward()
        dWs = [linear.weight.grad.numpy().copy() for linear in linears]
        dbs = [linear.bias.grad.numpy().copy() for linear in linears]
        return float(J.item()), dWs, dbs

    return fn


def _loss(name: str, output: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """J from the model's (N, S_L) output (A^(L), or Z^(L) for the cross-entropies)."""
    N = output.shape[0]
    if name == "cross_entropy":
        return functional.cross_entropy(output, targets)  # probability targets: mean over N
    if name == "binary_cross_entropy":
        return functional.binary_cross_entropy_with_logits(output, targets, reduction="sum") / N
    return ((output - targets) ** 2).sum() / (2 * N)


def _tensor(array: np.ndarray, dtype: str) -> torch.Tensor:
    # np.array copies: torch.from_numpy would share (and warn about) read-only memory.
    return torch.from_numpy(np.array(array, dtype=dtype))


def _checked_dtype(dtype: str) -> torch.dtype:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(map(repr, DTYPES))}, got {dtype!r}")
    return DTYPES[dtype]


def _checked_activations(activations: Sequence[str]) -> tuple[str, ...]:
    if isinstance(activations, str) or not isinstance(activations, Sequence) or not activations:
        raise ValueError(f"activations must be a non-empty sequence of names, got {activations!r}")
    for name in activations:
        if name not in TORCH_ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    return tuple(activations)
