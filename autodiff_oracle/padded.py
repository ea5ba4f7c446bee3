"""Problems padded into a shape envelope, so that one compilation serves many architectures.

``jax.jit`` compiles once per set of array shapes. A property test draws a new architecture
for nearly every example, and compiling (a few tenths of a second) would cost far more than
the pass itself (under a millisecond at these sizes). So every problem is zero-padded into an
``Envelope``: each width S_l and N rounded up to a multiple of ``GRAIN``, the depth L up to
``DEPTH_GRAIN`` by layers that pass Z^(L), A^(L) through unchanged (``jnp.where``,
which moves values and cotangents without arithmetic). σ_1..σ_L, J, λ and N travel as
run-time values (``Spec``), chosen inside the compiled function by ``lax.switch`` over
``ffnn``'s definitions — so every problem whose shapes round to the same envelope (every
problem of the ``crosscheck-ci`` sizes: widths and N up to 8, L up to 4) shares one
compilation per dtype. Problems beyond ``SMALL`` are not padded: their exact shapes, σ_l and
J are compiled in, which compiles several times faster.

Padding changes no real entry's value — exactly, not approximately:

- W^(l) gets zero rows and columns and b^(l) zeros, so a padded row of Z^(l) is 0 and its
  A is σ(0), finite; a real Z_in only gains terms 0·A_jn = 0, and adding an exact zero is
  exact: the computed sum is a sum of the real terms, in some order, which is all that the
  rounding bound of ``crosscheck.compare.bounds`` assumes (it holds for any order).
- a softmax layer reads its padded rows as −inf (exp gives exactly 0 beside any finite
  logit, however negative), so each real column's sum, and so A_kn, is unchanged.
- padded columns of X repeat its first column, so they are finite exactly when it is;
  columns never mix in the forward pass, and they are masked out of J, so their H is 0 and
  they add nothing to ∂J/∂W^(l) = Σ_n H_in A_jn.
- T is 0 on every padded entry, and J reads the padded output entries so that each term is
  exactly 0 (``objective.output_fill``): A = 0 in squared error; Z = −inf on padded rows in
  cross-entropy (out of the log-sum-exp; ffnn makes a term with T_kn = 0 exactly 0); Z = −inf
  in binary cross-entropy, where (1 − 0)·log(1 + e^{−inf}) = 0. The sum is divided by the
  true N (``Loss.J``'s ``N``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from crosscheck.ffnn import ACTIVATIONS, LOSSES, Layer, Network

GRAIN = 8
"""Every padded width and N is a multiple of this (the ``crosscheck-ci`` sizes all fit in 8)."""

DEPTH_GRAIN = 4
"""The padded depth L' (the ``crosscheck-ci`` depths all fit in 4)."""

SMALL = 32
"""Only problems whose every width and N are at most this, and whose depth is at most
DEPTH_GRAIN, are padded. Any other gets an exact envelope — its own shapes, σ_l and J
compiled in — since its compilation is then far cheaper (no ``lax.switch`` over every
activation: a padded depth of 8 compiles for ~15 s, an exact one in well under 1 s) and
large or deep shapes rarely repeat anyway."""

ACTIVATION_INDEX = {name: i for i, name in enumerate(ACTIVATIONS)}
"""Activation name → its branch in the compiled ``lax.switch`` (``crosscheck.ffnn.ACTIVATIONS``
order)."""

LOSS_INDEX = {name: i for i, name in enumerate(LOSSES)}
"""Loss name → its branch in the compiled ``lax.switch`` (``crosscheck.ffnn.LOSSES`` order)."""


class Envelope(NamedTuple):
    """The compiled shapes: ``sizes`` (S'_0, ..., S'_L') and N'.

    Padded (``fixed`` None): each a multiple of GRAIN; L' = DEPTH_GRAIN, with
    S'_l = S'_L for the pass-through layers l > L; σ_l and J chosen at run time.
    Exact (a problem beyond SMALL or DEPTH_GRAIN): the problem's own shapes, and ``fixed`` =
    (``ACTIVATION_INDEX`` of σ_1..σ_L, ``LOSS_INDEX`` of J), compiled in.
    """

    sizes: tuple[int, ...]
    N: int
    fixed: tuple[tuple[int, ...], int] | None = None


class Spec(NamedTuple):
    """The run-time description of a padded problem (arrays, so no recompilation).

    activations: (L',) int32, ``ACTIVATION_INDEX`` of σ_1..σ_L, then identity's.
    loss: () int32, ``LOSS_INDEX`` of J.
    lam: () of the problem's dtype, the weight decay λ.
    N: () of the problem's dtype, the true number of samples.
    rows: L'+1 bool arrays, ``rows[l]`` of shape (S'_l,): True on the S_l real rows (the
        S_L output rows for l > L).
    columns: (N',) bool: True on the N real columns.
    active: (L',) bool: True for the real layers 1..L; None in an exact envelope.
    """

    activations: Any
    loss: Any
    lam: Any
    N: Any
    rows: tuple[Any, ...]
    columns: Any
    active: Any


class Padded(NamedTuple):
    """A problem in its envelope: params, X (S'_0, N'), T (S'_L, N'), and its Spec."""

    envelope: Envelope
    params: tuple[Layer, ...]
    X: np.ndarray
    T: np.ndarray
    spec: Spec


def _in_dtype(value: float, dtype: np.dtype) -> Any:
    """`value` as a scalar of `dtype`; inf beyond its range (the result's overflow check then
    reports it, ``crosscheck.ffnn.overflow``), without NumPy's cast warning."""
    with np.errstate(over="ignore"):
        return dtype.type(value)


def _up(n: int) -> int:
    return -(-n // GRAIN) * GRAIN


def pad(network: Network, params: tuple[Layer, ...], X: np.ndarray, T: np.ndarray) -> Padded:
    """Zero-pad a validated problem into its envelope (module docstring), or, beyond SMALL,
    give it an exact envelope (the arrays as they are); inputs are not changed.

    Args:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L Layers, W^(l) (S_l, S_{l-1}), b^(l) (S_l,), as ``crosscheck.ffnn.validate``
        returns them.
        X: (S_0, N) inputs; T: (S_L, N) targets; one float dtype throughout.

    Returns:
        A ``Padded`` whose arrays have the envelope's shapes and the inputs' dtype.

    Raises:
        Nothing of its own: call it after ``crosscheck.ffnn.validate``.
    """
    dtype = X.dtype
    L, N = network.L, X.shape[1]
    activations = [ACTIVATION_INDEX[a] for a in network.activations]
    loss = LOSS_INDEX[network.loss]
    if max(network.sizes) > SMALL or N > SMALL or L > DEPTH_GRAIN:
        envelope = Envelope(network.sizes, N, (tuple(activations), loss))
        spec = Spec(
            activations=np.array(activations, np.int32),
            loss=np.int32(loss),
            lam=_in_dtype(network.weight_decay, dtype),
            N=dtype.type(N),
            rows=tuple(np.ones(S, bool) for S in network.sizes),
            columns=np.ones(N, bool),
            active=None,
        )
        return Padded(envelope, tuple(params), X, T, spec)
    L_pad = DEPTH_GRAIN
    sizes = network.sizes + (network.sizes[-1],) * (L_pad - L)
    envelope = Envelope(tuple(_up(S) for S in sizes), _up(N))
    padded_params = []
    for l in range(1, L_pad + 1):
        W_pad = np.zeros((envelope.sizes[l], envelope.sizes[l - 1]), dtype)
        b_pad = np.zeros(envelope.sizes[l], dtype)
        if l <= L:
            W, b = params[l - 1]
            W_pad[: sizes[l], : sizes[l - 1]] = W
            b_pad[: sizes[l]] = b
        padded_params.append(Layer(W_pad, b_pad))
    X_pad = np.zeros((envelope.sizes[0], envelope.N), dtype)
    X_pad[: sizes[0], :N] = X
    X_pad[: sizes[0], N:] = X[:, :1]  # padded columns repeat the first one
    T_pad = np.zeros((envelope.sizes[-1], envelope.N), dtype)
    T_pad[: sizes[-1], :N] = T
    spec = Spec(
        activations=np.array(activations + [ACTIVATION_INDEX["identity"]] * (L_pad - L), np.int32),
        loss=np.int32(loss),
        lam=_in_dtype(network.weight_decay, dtype),
        N=dtype.type(N),
        rows=tuple(np.arange(S_pad) < S for S, S_pad in zip(sizes, envelope.sizes, strict=True)),
        columns=np.arange(envelope.N) < N,
        active=np.arange(L_pad) < L,
    )
    return Padded(envelope, tuple(padded_params), X_pad, T_pad, spec)


def unpad(array: Any, rows: int, columns: int | None = None) -> np.ndarray:
    """The real block ``array[:rows, :columns]`` of a padded result, as a writable NumPy copy.

    Args:
        array: a padded (S', N') or (S', S'') matrix, or (S',) vector (JAX or NumPy).
        rows: the real number of rows S; columns: the real number of columns (None for a
            vector).

    Returns:
        An (S, columns) or (S,) C-contiguous NumPy array of the same dtype.
    """
    block = np.asarray(array)
    block = block[:rows] if columns is None else block[:rows, :columns]
    return np.array(block, order="C")
