"""Equation registry: every equation of the seed → the code implementing it → the tests.

``EQUATIONS`` maps each equation number of ``general-ffnn-backprop.md`` (1.1–1.5, 2.1–2.37)
and each extension the code numbers (2.38, and the primed numbers of docs/extensions.md:
2.2', 2.8', 2.13', 2.16'–2.21' for softmax and cross-entropy, 2.8'', 2.13'', 2.16''–2.21''
for binary cross-entropy and softmax's closed form) to an ``Equation``: the statement as printed,
the functions implementing it (dotted names, resolvable by ``resolve``) and the tests
exercising it (pytest node ids). ``tests/test_registry.py`` fails when an equation lacks
either, or when a name does not resolve or a node id is not collected.

Every matrix equation is also encoded *as printed* in a small matrix algebra (``Matrix``,
``Transpose``, ``Product``, ``Hadamard``, …) whose shapes are symbolic — rows and columns
named S_L, S_{L-1}, N, 1 — so that a form that only fits for special sizes (N = 1, or
N = S_{L-2}) is still caught. ``Relation.check_shapes`` raises ``ShapeError`` naming the
operands that do not fit; ``Relation.evaluate`` computes every side from the arrays of a
problem (``Bindings``) so the test can compare them with the implementations' values.
Index sums that transcribe to a matrix product (Σ_n X_in Y_nj = (X Y)_ij) are encoded as
the product; an entry written inside a matrix expression (Z_in in a Hadamard product) is an
``Entry``, a scalar, whose shape () fits no matrix.

``ERRATA`` holds the printed forms that fail those checks and their corrections
(docs/errata.md). The shape conventions are the seed's: vectors are columns, b^(l) is
S_l × 1, J_N is the N × 1 column of ones, so ∂J/∂b^(l) = H^(l) J_N is S_l × 1.

``python -m crosscheck.equations.registry > docs/equations.md`` regenerates the table in the docs.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from crosscheck.ffnn import NUMPY, Layer, Network, Trace
from crosscheck.implementations import IMPLEMENTATIONS

Shape = tuple[str, ...]
"""Symbolic shape: () for a scalar entry, (rows, cols) with names such as "S_L", "N", "1"."""


class ShapeError(ValueError):
    """A matrix form whose operands' shapes do not fit; the message names them."""


# ---------------------------------------------------------------------------------------
# Layers are written relative to L or to a generic l, as the seed writes them.
# ---------------------------------------------------------------------------------------
_LAYER = re.compile(r"(L|l|\d+)(?:-(\d+))?")


def _subscript(layer: str) -> str:
    return layer if len(layer) == 1 else f"{{{layer}}}"


def _size(layer: str) -> str:
    return f"S_{_subscript(layer)}"


def _below(layer: str) -> str:
    """The layer one below `layer` ("L" -> "L-1", "l-1" -> "l-2", "2" -> "1")."""
    base, offset = _LAYER.fullmatch(layer).groups()
    if base.isdigit():
        return str(int(base) - 1)
    return f"{base}-{int(offset or 0) + 1}"


def layer_number(layer: str, L: int, l: int | None = None) -> int:
    """The layer index that `layer` ("L", "L-2", "l", "l-1", "1", ...) names for these L, l.

    Raises:
        ValueError: `layer` is not of that form, or names the generic l while `l` is None.
    """
    match = _LAYER.fullmatch(layer)
    if match is None:
        raise ValueError(f"layer must read L, L-k, l, l-k or an integer, got {layer!r}")
    base, offset = match.groups()
    if base == "l" and l is None:
        raise ValueError(f"layer {layer!r} names the generic l; bind l to a layer")
    start = {"L": L, "l": l}.get(base, None)
    return (int(base) if start is None else start) - int(offset or 0)


# ---------------------------------------------------------------------------------------
# The values a form is evaluated on.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bindings:
    """The arrays of one problem, for evaluating forms (vectors as columns).

    Attributes:
        network: the architecture, sizes (S_0, ..., S_L).
        params: L Layers, W^(l) (S_l, S_{l-1}), b^(l) (S_l,).
        grads: L Layers from the implementation under check, ∂J/∂W^(l), ∂J/∂b^(l).
        trace: that implementation's Trace (Z, A, Δ, H of shape (S_l, N)).
        T: (S_L, N) targets.
        dJ_dA: ∂J/∂A^(l) for l = 0..L, (S_l, N) each, from an independent source (autodiff),
            so that the definition Δ^(L) = ∂J/∂A^(L) (eq 2.12) is a check, not a tautology.
        l: the layer the generic l of eqs 1.1, 1.4, 2.38 stands for (1..L), or None.
        sample: the column n that the single-sample vectors x, z, a of eq 1.1 are taken from.
    """

    network: Network
    params: tuple[Layer, ...]
    grads: tuple[Layer, ...]
    trace: Trace
    T: np.ndarray
    dJ_dA: tuple[np.ndarray, ...]
    l: int | None = None
    sample: int = 0

    @property
    def N(self) -> int:
        """Number of samples."""
        return self.T.shape[1]

    def array(self, quantity: str, layer: str) -> np.ndarray:
        """The 2-D float64 array of `quantity` (a key of ``QUANTITIES``) at `layer`.

        Vectors b, ∂J/∂b, x, z, a come back as columns (S_l, 1); J_N as (N, 1).

        Raises:
            ValueError: the layer is outside the quantity's range, or names l unbound.
        """
        k = layer_number(layer, self.network.L, self.l)
        low = 1 if quantity in _PARAMETER_QUANTITIES else 0
        if not low <= k <= self.network.L:
            raise ValueError(f"{quantity} at layer {layer} = {k} is outside {low}..L")
        return np.asarray(self._array(quantity, k), dtype=np.float64)

    def _array(self, quantity: str, k: int) -> np.ndarray:
        trace, n = self.trace, self.sample
        arrays = {
            "W": lambda: self.params[k - 1].W,
            "b": lambda: self.params[k - 1].b[:, None],
            "dJ_dW": lambda: self.grads[k - 1].W,
            "dJ_db": lambda: self.grads[k - 1].b[:, None],
            "Z": lambda: trace.Z[k],
            "A": lambda: trace.A[k],
            "Delta": lambda: trace.Delta[k],
            "H": lambda: trace.H[k],
            "sigma_prime": lambda: self.network.sigma(k).sigma_prime(np.asarray(trace.Z[k])),
            "dJ_dA": lambda: self.dJ_dA[k],
            "z": lambda: trace.Z[k][:, [n]],
            "a": lambda: trace.A[k][:, [n]],
            "x": lambda: trace.A[k][:, [n]],
            "X": lambda: trace.A[0],
            "T": lambda: self.T,
            "J_N": lambda: np.ones((self.N, 1)),
            "J_S": lambda: np.ones((self.network.sizes[k], 1)),
            "one": lambda: np.ones((self.network.sizes[k], self.N)),
            "s": lambda: self.T.sum(axis=0)[:, None],
        }
        return arrays[quantity]()


_PARAMETER_QUANTITIES = frozenset({"W", "b", "dJ_dW", "dJ_db", "Z", "H", "sigma_prime", "z"})


# ---------------------------------------------------------------------------------------
# The matrix algebra: printed forms with symbolic shapes.
# ---------------------------------------------------------------------------------------
QUANTITIES: dict[str, tuple[str, str]] = {
    "W": ("W^({k})", "weights"),
    "b": ("b^({k})", "column"),
    "dJ_dW": ("∂J/∂W^({k})", "weights"),
    "dJ_db": ("∂J/∂b^({k})", "column"),
    "Z": ("Z^({k})", "batch"),
    "A": ("A^({k})", "batch"),
    "Delta": ("Δ^({k})", "batch"),
    "H": ("H^({k})", "batch"),
    "sigma_prime": ("∂σ_{sub}/∂Z^({k})", "batch"),
    "dJ_dA": ("∂J/∂A^({k})", "batch"),
    "z": ("z^({k})", "column"),
    "a": ("a^({k})", "column"),
    "x": ("x", "column"),
    "X": ("X", "batch"),
    "T": ("T", "batch"),
    "J_N": ("J_N", "samples"),
    "J_S": ("J_S", "column"),
    "one": ("1", "batch"),
    "s": ("s", "samples"),
}
"""quantity → (printed name, shape kind): weights (S_k, S_{k-1}), column (S_k, 1),
batch (S_k, N), samples (N, 1). ``x`` is a^(k) printed as the seed's input vector x; J_N
and J_S are columns of ones (N and S_k of them), ``one`` the S_k × N matrix of ones, ``s``
the column sums of T, s_n = Σ_k T_kn (docs/extensions.md, eq 2.8')."""


class Expr:
    """A printed matrix expression: symbolic ``shape()``, numeric ``value(bindings)``."""

    def shape(self) -> Shape:
        raise NotImplementedError

    def value(self, bindings: Bindings) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Matrix(Expr):
    """A named matrix of the seed, e.g. ``Matrix("H", "L")`` is H^(L), (S_L × N)."""

    quantity: str
    layer: str = "L"

    def __post_init__(self) -> None:
        if self.quantity not in QUANTITIES:
            raise ValueError(f"unknown quantity {self.quantity!r}; known: {', '.join(QUANTITIES)}")
        layer_number(self.layer, L=0, l=0)  # rejects a malformed layer

    def shape(self) -> Shape:
        kind = QUANTITIES[self.quantity][1]
        rows = _size(self.layer)
        return {
            "weights": (rows, _size(_below(self.layer))),
            "column": (rows, "1"),
            "batch": (rows, "N"),
            "samples": ("N", "1"),
        }[kind]

    def value(self, bindings: Bindings) -> np.ndarray:
        return bindings.array(self.quantity, self.layer)

    def __str__(self) -> str:
        return QUANTITIES[self.quantity][0].format(k=self.layer, sub=_subscript(self.layer))


@dataclass(frozen=True)
class Transpose(Expr):
    """(e)^t."""

    operand: Expr

    def shape(self) -> Shape:
        shape = self.operand.shape()
        if len(shape) != 2:
            raise ShapeError(f"{self}: the transpose of a scalar entry {self.operand}")
        return shape[::-1]

    def value(self, bindings: Bindings) -> np.ndarray:
        return self.operand.value(bindings).T

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"({inner})^t" if "^" in inner or " " in inner else f"{inner}^t"


@dataclass(frozen=True)
class Product(Expr):
    """The matrix product a b: (p × q)(q × r) -> (p × r)."""

    left: Expr
    right: Expr

    def shape(self) -> Shape:
        a, b = self.left.shape(), self.right.shape()
        if len(a) != 2 or len(b) != 2:
            raise ShapeError(f"{self}: a matrix product of {_shape_text(a)} and {_shape_text(b)}")
        if a[1] != b[0]:
            raise ShapeError(
                f"{self}: ({self.left}) is {_shape_text(a)} but ({self.right}) is"
                f" {_shape_text(b)}; the product needs {a[1]} = {b[0]}"
            )
        return (a[0], b[1])

    def value(self, bindings: Bindings) -> np.ndarray:
        a, b = self.left.value(bindings), self.right.value(bindings)
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"{self}: cannot multiply arrays of shapes {a.shape} and {b.shape}")
        return a @ b

    def __str__(self) -> str:
        return f"{_grouped(self.left)} {_grouped(self.right)}"


@dataclass(frozen=True)
class _Elementwise(Expr):
    """An elementwise operation a ∘ b of two matrices (or entries) of one shape."""

    left: Expr
    right: Expr
    symbol: ClassVar[str]
    apply: ClassVar[Callable[[np.ndarray, np.ndarray], np.ndarray]]

    def shape(self) -> Shape:
        a, b = self.left.shape(), self.right.shape()
        if a != b:
            raise ShapeError(
                f"{self}: {self.symbol} needs equal shapes, but ({self.left}) is"
                f" {_shape_text(a)} and ({self.right}) is {_shape_text(b)}"
            )
        return a

    def value(self, bindings: Bindings) -> np.ndarray:
        a, b = self.left.value(bindings), self.right.value(bindings)
        if a.shape != b.shape:
            raise ShapeError(f"{self}: {self.symbol} of arrays of shapes {a.shape} and {b.shape}")
        return type(self).apply(a, b)

    def __str__(self) -> str:
        return f"{_grouped(self.left)} {self.symbol} {_grouped(self.right)}"


@dataclass(frozen=True)
class Hadamard(_Elementwise):
    """The Hadamard (elementwise) product a ⊙ b of two matrices of one shape."""

    symbol = "⊙"
    apply = np.multiply


@dataclass(frozen=True)
class Sum(Expr):
    """a + b, or a − b with ``sign=-1``; the shapes must be equal."""

    left: Expr
    right: Expr
    sign: int = 1

    def shape(self) -> Shape:
        a, b = self.left.shape(), self.right.shape()
        if a != b:
            raise ShapeError(f"{self}: adds {_shape_text(a)} and {_shape_text(b)}")
        return a

    def value(self, bindings: Bindings) -> np.ndarray:
        a, b = self.left.value(bindings), self.right.value(bindings)
        if a.shape != b.shape:
            raise ShapeError(f"{self}: adds arrays of shapes {a.shape} and {b.shape}")
        return a + self.sign * b

    def __str__(self) -> str:
        return f"{self.left} {'+' if self.sign > 0 else '−'} {self.right}"


_FACTORS = {"1/N": lambda v, N: v / N, "N": lambda v, N: N * v, "−": lambda v, N: -v}


@dataclass(frozen=True)
class Scaled(Expr):
    """A scalar factor times e: ``"1/N"`` (printed 1/N (e)), ``"N"`` (N e) or ``"−"`` (−e)."""

    operand: Expr
    factor: str = "1/N"

    def __post_init__(self) -> None:
        if self.factor not in _FACTORS:
            raise ValueError(f"factor must be one of {', '.join(_FACTORS)}, got {self.factor!r}")

    def shape(self) -> Shape:
        return self.operand.shape()

    def value(self, bindings: Bindings) -> np.ndarray:
        return _FACTORS[self.factor](self.operand.value(bindings), bindings.N)

    def __str__(self) -> str:
        if self.factor == "1/N":
            return f"1/N ({self.operand})"
        return f"{self.factor}{'' if self.factor == '−' else ' '}{_grouped(self.operand)}"


@dataclass(frozen=True)
class Divide(_Elementwise):
    """The elementwise quotient a ⊘ b of two matrices (or entries) of one shape."""

    symbol = "⊘"
    apply = np.divide


@dataclass(frozen=True)
class Sigma(Expr):
    """σ_k(e), elementwise: shape unchanged."""

    layer: str
    operand: Expr

    def shape(self) -> Shape:
        return self.operand.shape()

    def value(self, bindings: Bindings) -> np.ndarray:
        k = layer_number(self.layer, bindings.network.L, bindings.l)
        return np.asarray(bindings.network.sigma(k).sigma(self.operand.value(bindings), NUMPY))

    def __str__(self) -> str:
        return f"σ_{_subscript(self.layer)}({self.operand})"


@dataclass(frozen=True)
class Bracket(Expr):
    """[e]: grouping as printed; the value and shape are e's."""

    operand: Expr

    def shape(self) -> Shape:
        return self.operand.shape()

    def value(self, bindings: Bindings) -> np.ndarray:
        return self.operand.value(bindings)

    def __str__(self) -> str:
        return f"[{self.operand}]"


@dataclass(frozen=True)
class Entry(Expr):
    """The entry e_in of a matrix: a scalar, symbolic shape ().

    Its value is the array of all its entries (indexed by its free indices), i.e. the
    entrywise reading; the symbolic shape () is what a matrix expression cannot take.
    """

    operand: Expr
    indices: str = "in"

    def shape(self) -> Shape:
        if len(self.operand.shape()) != 2:
            raise ShapeError(f"{self}: an entry of a scalar")
        return ()

    def value(self, bindings: Bindings) -> np.ndarray:
        return self.operand.value(bindings)

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"{inner if isinstance(self.operand, Matrix) else f'({inner})'}_{self.indices}"


def _grouped(expr: Expr) -> str:
    """`expr` printed as an operand of a product, ⊙ or ⊘: parenthesized unless it is a
    named matrix, a transpose, a bracket, an entry, a product or σ(·) (which bind first)."""
    if isinstance(expr, Matrix | Transpose | Bracket | Entry | Product | Sigma):
        return str(expr)
    return f"({expr})"


def _layers_of(expr: Expr) -> set[str]:
    """Every layer named in `expr` ("L", "L-1", "l", ...)."""
    layers = {getattr(expr, "layer", None)} - {None}
    for child in ("operand", "left", "right"):
        if hasattr(expr, child):
            layers |= _layers_of(getattr(expr, child))
    return layers


def _shape_text(shape: Shape) -> str:
    return "a scalar entry" if shape == () else f"({' × '.join(shape)})"


@dataclass(frozen=True)
class Relation:
    """lhs = sides[0] = sides[1] = ..., one printed chain of equal matrices."""

    lhs: Expr
    sides: tuple[Expr, ...]

    def check_shapes(self) -> Shape:
        """The common symbolic shape of every side.

        Raises:
            ShapeError: a side is malformed (a product or ⊙ that does not fit), or a side's
                shape differs from the left-hand side's; the message names them.
        """
        shape = self.lhs.shape()
        for side in self.sides:
            if side.shape() != shape:
                raise ShapeError(
                    f"{self.lhs} is {_shape_text(shape)} but {side} is {_shape_text(side.shape())}"
                )
        return shape

    def evaluate(self, bindings: Bindings) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """(value of lhs, values of the sides), float64 arrays, from `bindings`.

        Raises:
            ShapeError: the arrays do not fit (numeric shapes; sizes that coincide, such as
                N = S_{L-2}, let a symbolically wrong form through — see check_shapes).
            ValueError: a generic layer l left unbound.
        """
        return self.lhs.value(bindings), tuple(side.value(bindings) for side in self.sides)

    @property
    def generic_layer(self) -> bool:
        """True if the relation is stated for a generic layer l (to hold for every l)."""
        return any(_layers_of(e) & {"l", "l-1"} for e in (self.lhs, *self.sides))

    def __str__(self) -> str:
        return " = ".join(str(e) for e in (self.lhs, *self.sides))


# ---------------------------------------------------------------------------------------
# The printed forms (transcribed from the seed) and their corrections.
# ---------------------------------------------------------------------------------------
def _m(quantity: str, layer: str = "L") -> Matrix:
    return Matrix(quantity, layer)


def _t(e: Expr) -> Transpose:
    return Transpose(e)


_J_N = _m("J_N")
_H = _m("H")
_H_1 = _m("H", "L-1")
_SP = _m("sigma_prime")
_SP_1 = _m("sigma_prime", "L-1")
_WtH = Product(_t(_m("W")), _H)  # (W^(L))^t H^(L)
_A_2t = _t(_m("A", "L-2"))

FORMS: dict[str, tuple[Relation, ...]] = {
    "1.1": (
        Relation(_m("z", "l"), (Sum(Product(_m("W", "l"), _m("x", "l-1")), _m("b", "l")),)),
        Relation(_m("a", "l"), (Sigma("l", _m("z", "l")),)),
    ),
    "1.3": (  # "+b^(1)" is, as the seed says, shorthand for + b^(1) J_N^t
        Relation(
            _m("Z", "1"),
            (Sum(Product(_m("W", "1"), _m("X", "0")), Product(_m("b", "1"), _t(_J_N))),),
        ),
        Relation(_m("A", "1"), (Sigma("1", _m("Z", "1")),)),
    ),
    "1.4": (
        Relation(
            _m("Z", "l"),
            (Sum(Product(_m("W", "l"), _m("A", "l-1")), Product(_m("b", "l"), _t(_J_N))),),
        ),
        Relation(_m("A", "l"), (Sigma("l", _m("Z", "l")),)),
    ),
    "2.7": (
        Relation(
            _m("dJ_dW"),
            (
                Product(Bracket(Hadamard(_m("dJ_dA"), _SP)), _t(_m("A", "L-1"))),
                Product(_H, _t(_m("A", "L-1"))),
            ),
        ),
    ),
    "2.8": (Relation(_H, (Hadamard(_m("dJ_dA"), _SP),)),),
    "2.11": (
        Relation(
            _m("dJ_db"),
            (Product(Bracket(Hadamard(_m("dJ_dA"), _SP)), _t(_J_N)), Product(_H, _t(_J_N))),
        ),
    ),
    "2.12": (Relation(_m("Delta"), (_m("dJ_dA"),)),),
    "2.13": (Relation(_H, (Hadamard(_m("Delta"), _SP),)),),
    "2.14": (
        Relation(
            _m("dJ_dW"),
            (
                Product(_H, _t(_m("A", "L-1"))),
                Product(Bracket(Hadamard(_m("Delta"), _SP)), _t(_m("A", "L-1"))),
            ),
        ),
    ),
    "2.15": (
        Relation(
            _m("dJ_db"),
            (Product(_H, _t(_J_N)), Product(Bracket(Hadamard(_m("Delta"), _SP)), _t(_J_N))),
        ),
    ),
    "2.20": (Relation(_m("Delta"), (Scaled(Sum(Entry(_m("A")), Entry(_m("T")), sign=-1)),)),),
    "2.21": (Relation(_m("Delta"), (Scaled(Sum(_m("A"), _m("T"), sign=-1)),)),),
    # eq 2.30 sums Σ_n [·]_in (A^(L-2))^t_nj: the matrix product [·] (A^(L-2))^t
    "2.30": (
        Relation(
            _m("dJ_dW", "L-1"),
            (Product(Bracket(Hadamard(_WtH, Entry(_SP_1))), _A_2t),),
        ),
    ),
    "2.31": (Relation(_m("dJ_dW", "L-1"), (Bracket(Hadamard(_WtH, Product(_SP_1, _A_2t))),)),),
    "2.32": (
        Relation(_m("dJ_dW", "L-1"), (Product(Bracket(Hadamard(_WtH, _SP_1)), _A_2t),)),
        Relation(_m("Delta", "L-1"), (_WtH,)),
    ),
    "2.33": (
        Relation(
            _m("dJ_dW", "L-1"),
            (
                Product(Bracket(Hadamard(_m("Delta", "L-1"), _SP_1)), _A_2t),
                Product(_H_1, _A_2t),
            ),
        ),
    ),
    "2.34": (Relation(_H_1, (Hadamard(_m("Delta", "L-1"), _SP_1),)),),
    # eq 2.36 sums Σ_n [·]_in: the product [·] J_N
    "2.36": (
        Relation(
            _m("dJ_db", "L-1"),
            (Product(Bracket(Hadamard(_WtH, Entry(_SP_1))), _J_N), Product(_H_1, _J_N)),
        ),
    ),
    "2.37": (Relation(_m("dJ_db", "L-1"), (Product(_H_1, _t(_J_N)),)),),
    "2.38": (Relation(_m("Delta", "l-1"), (Product(_t(_m("W", "l")), _m("H", "l")),)),),
    # extensions (docs/extensions.md): softmax, cross-entropy, binary cross-entropy
    "2.8'": (
        Relation(
            _H,
            (Scaled(Sum(Hadamard(_m("A"), Product(_m("J_S"), _t(_m("s")))), _m("T"), sign=-1)),),
        ),
    ),
    "2.8''": (Relation(_H, (Scaled(Sum(_m("A"), _m("T"), sign=-1)),)),),
    "2.13''": (
        Relation(
            _m("H", "l"),
            (
                Hadamard(
                    _m("A", "l"),
                    Sum(
                        _m("Delta", "l"),
                        Product(
                            Product(_m("J_S", "l"), _t(_m("J_S", "l"))),
                            Hadamard(_m("A", "l"), _m("Delta", "l")),
                        ),
                        sign=-1,
                    ),
                ),
            ),
        ),
    ),
    "2.20'": (
        Relation(
            Entry(_m("Delta")), (Scaled(Divide(Entry(_m("T")), Scaled(Entry(_m("A")), "N")), "−"),)
        ),
    ),
    "2.21'": (Relation(_m("Delta"), (Scaled(Divide(_m("T"), Scaled(_m("A"), "N")), "−"),)),),
    "2.20''": (
        Relation(
            Entry(_m("Delta")),
            (
                Scaled(
                    Sum(
                        Divide(
                            Entry(Sum(_m("one"), _m("T"), sign=-1)),
                            Entry(Sum(_m("one"), _m("A"), sign=-1)),
                        ),
                        Divide(Entry(_m("T")), Entry(_m("A"))),
                        sign=-1,
                    )
                ),
            ),
        ),
    ),
    "2.21''": (
        Relation(
            _m("Delta"),
            (
                Scaled(
                    Sum(
                        Divide(Sum(_m("one"), _m("T"), sign=-1), Sum(_m("one"), _m("A"), sign=-1)),
                        Divide(_m("T"), _m("A")),
                        sign=-1,
                    )
                ),
            ),
        ),
    ),
}
"""Equation number → its matrix forms *as printed* (the chain of equal sides); the primed
extensions as docs/extensions.md prints them."""

FORM_NETWORKS: dict[str, Network] = {
    "seed": Network((2, 3, 4, 5), ("tanh", "softplus", "sigmoid")),
    "cross_entropy": Network((2, 4, 3), ("softmax", "softmax"), loss="cross_entropy"),
    "binary_cross_entropy": Network((3, 4, 2), ("tanh", "sigmoid"), loss="binary_cross_entropy"),
}
"""The networks the forms are evaluated on. "seed": L = 3, three different smooth σ (a σ'
of the wrong layer shows), widths all different; the others carry the extensions."""

FORM_NETWORK: dict[str, str] = {
    "2.8'": "cross_entropy",
    "2.13''": "cross_entropy",
    "2.20'": "cross_entropy",
    "2.21'": "cross_entropy",
    "2.8''": "binary_cross_entropy",
    "2.20''": "binary_cross_entropy",
    "2.21''": "binary_cross_entropy",
}
"""Equation number → the key of its network in FORM_NETWORKS (default "seed")."""


@dataclass(frozen=True)
class Erratum:
    """A printed form that fails the shape (or value) check, and its correction.

    Attributes:
        number: the equation.
        printed: the form as printed (``FORMS[number]``).
        corrected: the form the shapes need; it holds on the implementations' values.
        problem: what is wrong.
        kind: ``"J_N^t"`` — fits only for N = 1 (where it equals the correction);
            ``"bracket"`` — fits only where sizes coincide (N = S_{L-2}) and then gives a
            wrong value; ``"notation"`` — an entry written inside a matrix expression, whose
            entrywise reading gives the right value.
    """

    number: str
    printed: tuple[Relation, ...]
    corrected: tuple[Relation, ...]
    problem: str
    kind: str


_J_N_MISPRINT = (
    "H J_N^t multiplies (S_l × N) by (1 × N), which only fits for N = 1; summing the rows"
    " of H (the δ_ik of eq {delta} collapses Σ_k, leaving Σ_n H_in) is H J_N, (S_l × N)(N × 1)."
)
_ENTRY_IN_MATRIX = (
    "∂σ_{L-1}/∂Z_in^(L-1) is written with the indices i, n inside a bracket that is itself"
    " indexed [·]_in: a scalar entry cannot be a factor of ⊙; the matrix ∂σ_{L-1}/∂Z^(L-1)"
    " is meant (as in eq 2.32). Read entrywise the value is right: a notational slip."
)

ERRATA: dict[str, Erratum] = {
    "2.11": Erratum(
        "2.11",
        FORMS["2.11"],
        (
            Relation(
                _m("dJ_db"),
                (Product(Bracket(Hadamard(_m("dJ_dA"), _SP)), _J_N), Product(_H, _J_N)),
            ),
        ),
        _J_N_MISPRINT.format(delta="2.9"),
        kind="J_N^t",
    ),
    "2.15": Erratum(
        "2.15",
        FORMS["2.15"],
        (
            Relation(
                _m("dJ_db"),
                (Product(_H, _J_N), Product(Bracket(Hadamard(_m("Delta"), _SP)), _J_N)),
            ),
        ),
        _J_N_MISPRINT.format(delta="2.9"),
        kind="J_N^t",
    ),
    "2.20": Erratum(
        "2.20",
        FORMS["2.20"],
        (Relation(Entry(_m("Delta")), (Scaled(Sum(Entry(_m("A")), Entry(_m("T")), sign=-1)),)),),
        "The left side is the matrix Δ^(L), the right side its entry (1/N)(A_in − T_in):"
        " either Δ^(L)_in on the left (the entry form, as in eq 2.19) or the matrix form"
        " 1/N (A^(L) − T) on the right (eq 2.21).",
        kind="notation",
    ),
    "2.30": Erratum(
        "2.30",
        FORMS["2.30"],
        (Relation(_m("dJ_dW", "L-1"), (Product(Bracket(Hadamard(_WtH, _SP_1)), _A_2t),)),),
        _ENTRY_IN_MATRIX,
        kind="notation",
    ),
    "2.31": Erratum(
        "2.31",
        FORMS["2.31"],
        (Relation(_m("dJ_dW", "L-1"), (Product(Bracket(Hadamard(_WtH, _SP_1)), _A_2t),)),),
        "The closing bracket is misplaced: as printed, (A^(L-2))^t multiplies ∂σ_{L-1}/∂Z^(L-1)"
        " before ⊙, giving (S_{L-1} × N) ⊙ (S_{L-1} × S_{L-2}), which fits only for"
        " N = S_{L-2} and then gives a wrong value; ⊙ comes first, then the product with"
        " (A^(L-2))^t: [(W^(L))^t H^(L) ⊙ ∂σ_{L-1}/∂Z^(L-1)] (A^(L-2))^t, eq 2.32.",
        kind="bracket",
    ),
    "2.36": Erratum(
        "2.36",
        FORMS["2.36"],
        (
            Relation(
                _m("dJ_db", "L-1"),
                (Product(Bracket(Hadamard(_WtH, _SP_1)), _J_N), Product(_H_1, _J_N)),
            ),
        ),
        _ENTRY_IN_MATRIX,
        kind="notation",
    ),
    "2.37": Erratum(
        "2.37",
        FORMS["2.37"],
        (Relation(_m("dJ_db", "L-1"), (Product(_H_1, _J_N),)),),
        _J_N_MISPRINT.format(delta="2.35"),
        kind="J_N^t",
    ),
}
"""Equation number → Erratum, for every printed form that fails the shape check."""


# ---------------------------------------------------------------------------------------
# The cases tests/test_registry.py parametrizes over (so the ids cited below exist).
# ---------------------------------------------------------------------------------------
CHECKED_IMPLEMENTATIONS = tuple(implementation.key for implementation in IMPLEMENTATIONS)
"""The implementations whose grads and traces every form is evaluated on (their keys in
``crosscheck.implementations``)."""


@dataclass(frozen=True)
class FormCase:
    """One form to evaluate: a relation of an equation (its correction for an erratum).

    id: the pytest id, e.g. ``"eq_2_14"``, ``"eq_1_4a_l2"``, ``"eq_2_32b"`` (2nd relation).
    network: the key in FORM_NETWORKS of the network to evaluate it on.
    l: the layer a generic l stands for (1..L of that network), or None.
    """

    id: str
    number: str
    relation: Relation
    network: str
    l: int | None


def equation_id(number: str) -> str:
    """The pytest id of an equation: "2.14" -> "eq_2_14", "2.8'" -> "eq_2_8_prime",
    "2.16''" -> "eq_2_16_pp" (the spelling the test names use)."""
    return "eq_" + number.replace(".", "_").replace("''", "_pp").replace("'", "_prime")


def form_cases() -> tuple[FormCase, ...]:
    """Every form that must hold: ``FORMS``, with each erratum's corrected form instead."""
    cases = []
    for number, printed in FORMS.items():
        relations = ERRATA[number].corrected if number in ERRATA else printed
        for r, relation in enumerate(relations, start=1):
            base = equation_id(number) + ("ab"[r - 1] if len(relations) > 1 else "")
            network = FORM_NETWORK.get(number, "seed")
            L = FORM_NETWORKS[network].L
            layers = range(1, L + 1) if relation.generic_layer else (None,)
            cases += [
                FormCase(base if l is None else f"{base}_l{l}", number, relation, network, l)
                for l in layers
            ]
    return tuple(cases)


ERRATUM_TESTS: dict[str, tuple[str, ...]] = {
    "J_N^t": (
        "test_erratum_printed_form_fails_numerically_for_several_samples",
        "test_erratum_printed_form_equals_correction_for_one_sample",
    ),
    "bracket": ("test_erratum_printed_form_has_wrong_value_where_sizes_coincide",),
    "notation": ("test_erratum_printed_form_read_entrywise_has_right_value",),
}
"""Erratum kind → the tests (in tests/test_registry.py) showing what the printed form gives."""


def _form_tests(number: str) -> tuple[str, ...]:
    """The node ids of test_registry's checks of `number`'s forms (and errata)."""
    module = "tests/test_registry.py"
    ids = []
    for case in form_cases():
        if case.number == number:
            ids += [
                f"{module}::test_form_holds_on_implementation[{case.id}-{name}]"
                for name in CHECKED_IMPLEMENTATIONS
            ]
    eq = equation_id(number)
    if number in ERRATA:
        ids += [
            f"{module}::test_erratum_printed_form_fails_shape_check[{eq}]",
            f"{module}::test_erratum_corrected_form_is_shape_consistent[{eq}]",
        ]
        ids += [f"{module}::{test}[{eq}]" for test in ERRATUM_TESTS[ERRATA[number].kind]]
    elif number in FORMS:
        ids.append(f"{module}::test_printed_form_is_shape_consistent[{eq}]")
    return tuple(ids)


# ---------------------------------------------------------------------------------------
# The registry.
# ---------------------------------------------------------------------------------------
DEFINITION = "definition"
RELATION = "relation"
EXTENSION = "extension"


@dataclass(frozen=True)
class Equation:
    """One numbered equation, where it is implemented and where it is tested.

    Attributes:
        number: "1.1" … "2.37" (the seed); "2.38" and primed numbers such as "2.8'" (the
            extensions the code numbers, docs/extensions.md).
        statement: the equation as printed (plain text).
        kind: ``"definition"`` (maps to the code that builds the quantity),
            ``"relation"`` or ``"extension"`` (beyond the seed).
        implementations: dotted names of the functions implementing it (``resolve``).
        tests: pytest node ids of tests exercising it.
        erratum: the Erratum if the printed matrix form fails the shape check, else None.
    """

    number: str
    statement: str
    kind: str
    implementations: tuple[str, ...]
    tests: tuple[str, ...]

    @property
    def erratum(self) -> Erratum | None:
        """The erratum of the printed form, or None."""
        return ERRATA.get(self.number)


SEED_EQUATIONS: tuple[str, ...] = (
    *(f"1.{k}" for k in range(1, 6)),
    *(f"2.{k}" for k in range(1, 38)),
)
"""The seed's equation numbers: 1.1–1.5, 2.1–2.37."""

_R = "tests/test_reference.py"
_V = "tests/test_vectorized.py"
_AD = "tests/test_autodiff_oracle.py"
_C = "tests/test_contract.py"
_REG = "tests/test_registry.py"
_LIT, _CON = "crosscheck.reference.literal", "crosscheck.reference.contracted"
_VB = "crosscheck.vectorized.backward.backward"

_TABLE: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "1.1",
        "z^(l) = W^(l) x + b^(l),  a^(l) = σ_l(z^(l)) = σ_l(W^(l) x + b^(l))",
        RELATION,
        ("crosscheck.reference.forward.forward", "crosscheck.vectorized.forward.forward"),
        (f"{_REG}::test_eq_1_1_each_column_is_the_single_sample_forward_pass",),
    ),
    (
        "1.2",
        "X = (x_1 … x_N), S_0 × N: one column per sample",
        DEFINITION,
        ("crosscheck.ffnn.validation.validate",),
        (f"{_REG}::test_eq_1_2_X_is_S_0_by_N",),
    ),
    (
        "1.3",
        "Z^(1) = W^(1) X + b^(1) [J_N^t],  A^(1) = σ_1(Z^(1))",
        RELATION,
        ("crosscheck.vectorized.forward.forward", "crosscheck.reference.forward.forward"),
        (f"{_C}::test_hand_computed_value[vectorized-identity_1_1_1-eq_1_4_Z1]",),
    ),
    (
        "1.4",
        "Z^(l) = W^(l) A^(l-1) + b^(l),  A^(l) = σ_l(Z^(l))",
        RELATION,
        (
            "crosscheck.vectorized.forward.forward",
            "crosscheck.reference.forward.forward",
            "crosscheck.autodiff_oracle.objective.objective",
        ),
        (
            f"{_R}::test_eq_1_4_Z_hand_worked[2-literal]",
            f"{_R}::test_eq_1_4_A_hand_worked[2-contracted]",
            f"{_C}::test_hand_computed_value[vectorized-identity_1_1_1-eq_1_4_Z2]",
            f"{_C}::test_hand_computed_value[autodiff-identity_1_1_1_decay-eq_1_4_A2]",
        ),
    ),
    (
        "1.5",
        "T = (t_1 … t_N) ∈ R^(S_L × N)",
        DEFINITION,
        ("crosscheck.ffnn.validation.validate",),
        (f"{_REG}::test_eq_1_5_T_is_S_L_by_N",),
    ),
    (
        "2.1",
        "∂J/∂W_ij^(L) = Σ_k Σ_n ∂J/∂A_kn^(L) ∂A_kn^(L)/∂W_ij^(L), and likewise for b_i^(L)",
        RELATION,
        (f"{_LIT}.dJ_dW", f"{_LIT}.dJ_db"),
        (
            f"{_REG}::test_index_form_holds[eq_2_1_W-vectorized]",
            f"{_REG}::test_index_form_holds[eq_2_1_b-vectorized]",
        ),
    ),
    (
        "2.2",
        "∂A_kn^(L)/∂W_ij^(L) = ∂σ_L/∂Z_kn^(L) ∂Z_kn^(L)/∂W_ij^(L)",
        RELATION,
        (f"{_LIT}.dJ_dW", "crosscheck.reference.forward.sigma_prime"),
        (f"{_REG}::test_eq_2_2_dA_dW_is_sigma_prime_times_dZ_dW",),
    ),
    (
        "2.3",
        "∂Z_kn^(L)/∂W_ij^(L) = ∂/∂W_ij^(L) (Σ_l W_kl^(L) A_ln^(L-1) + b_k^(L))",
        RELATION,
        ("crosscheck.reference.forward.forward", f"{_LIT}.dJ_dW"),
        (f"{_REG}::test_eq_2_3_2_4_dZ_dW_is_delta_ik_A_jn",),
    ),
    (
        "2.4",
        "∂Z_kn^(L)/∂W_ij^(L) = Σ_l δ_ik δ_jl A_ln^(L-1) = δ_ik A_jn^(L-1)",
        RELATION,
        (f"{_LIT}.dJ_dW",),
        (f"{_REG}::test_eq_2_3_2_4_dZ_dW_is_delta_ik_A_jn",),
    ),
    (
        "2.5",
        "∂J/∂W_ij^(L) = Σ_k Σ_n ∂J/∂A_kn ∂σ_L/∂Z_kn δ_ik A_jn^(L-1)"
        " = Σ_n ∂J/∂A_in ∂σ_L/∂Z_in A_jn^(L-1)",
        RELATION,
        (f"{_LIT}.dJ_dW", f"{_CON}.dJ_dW"),
        (
            f"{_R}::test_eq_2_5_2_27_dW_hand_worked[eq_2_5-literal]",
            f"{_R}::test_eq_2_5_2_27_dW_hand_worked[eq_2_5-contracted]",
            f"{_REG}::test_index_form_holds[eq_2_5_first-vectorized]",
            f"{_REG}::test_index_form_holds[eq_2_5_second-vectorized]",
        ),
    ),
    (
        "2.6",
        "Σ_n [∂J/∂A^(L) ⊙ ∂σ_L/∂Z^(L)]_in (A^(L-1))^t_nj",
        RELATION,
        (f"{_CON}.dJ_dW", _VB),
        (f"{_REG}::test_index_form_holds[eq_2_6-vectorized]",),
    ),
    (
        "2.7",
        "∂J/∂W^(L) = [∂J/∂A^(L) ⊙ ∂σ_L/∂Z^(L)] (A^(L-1))^t = H^(L) (A^(L-1))^t",
        RELATION,
        (_VB,),
        (f"{_C}::test_hand_computed_value[vectorized-sigmoid_1_1_at_0-eq_2_7_dW1_sigmoid]",),
    ),
    (
        "2.8",
        "H^(L) = ∂J/∂A^(L) ⊙ ∂σ_L/∂Z^(L)",
        DEFINITION,
        (_VB, "crosscheck.reference.backward.hadamard", "crosscheck.autodiff_oracle.api.backprop"),
        (f"{_AD}::test_trace_agrees_with_vectorized",),
    ),
    (
        "2.9",
        "∂Z_kn^(L)/∂b_i^(L) = ∂/∂b_i^(L) (Σ_l W_kl^(L) A_ln^(L-1) + b_k^(L)) = δ_ik",
        RELATION,
        (f"{_LIT}.dJ_db",),
        (f"{_REG}::test_eq_2_9_2_35_dZ_db_is_delta_ik[eq_2_9]",),
    ),
    (
        "2.10",
        "∂J/∂b_i^(L) = Σ_k Σ_n ∂J/∂A_kn ∂σ_L/∂Z_kn δ_ik = Σ_n ∂J/∂A_in ∂σ_L/∂Z_in",
        RELATION,
        (f"{_LIT}.dJ_db", f"{_CON}.dJ_db"),
        (
            f"{_R}::test_eq_2_10_2_36_db_hand_worked[eq_2_10-literal]",
            f"{_R}::test_eq_2_10_2_36_db_hand_worked[eq_2_10-contracted]",
            f"{_REG}::test_index_form_holds[eq_2_10-vectorized]",
        ),
    ),
    (
        "2.11",
        "∂J/∂b^(L) = [∂J/∂A^(L) ⊙ ∂σ_L/∂Z^(L)] J_N^t = H^(L) J_N^t   (erratum: J_N)",
        RELATION,
        (_VB,),
        (f"{_C}::test_hand_computed_value[vectorized-sigmoid_1_1_at_0-eq_2_11_db1_sigmoid]",),
    ),
    (
        "2.12",
        "Δ^(L) = ∂J/∂A^(L)",
        DEFINITION,
        (
            "crosscheck.ffnn.losses.Loss",
            "crosscheck.ffnn.losses._squared_error_delta",
            "crosscheck.autodiff_oracle.api.backprop",
        ),
        (f"{_C}::test_eq_2_21_delta_L_squared_error[autodiff]",),
    ),
    (
        "2.13",
        "H^(L) = Δ^(L) ⊙ ∂σ_L/∂Z^(L)",
        RELATION,
        (_VB, "crosscheck.reference.backward.hadamard"),
        (
            f"{_R}::test_eq_2_13_2_34_H_hand_worked[eq_2_13-literal]",
            f"{_V}::test_eq_2_13_2_34_H_is_Delta_times_sigma_prime",
        ),
    ),
    (
        "2.14",
        "∂J/∂W^(L) = H^(L) (A^(L-1))^t = [Δ^(L) ⊙ ∂σ_L/∂Z^(L)] (A^(L-1))^t",
        RELATION,
        (_VB, f"{_CON}.dJ_dW"),
        (f"{_C}::test_hand_computed_value[vectorized-identity_1_1_1-eq_2_14_dW2]",),
    ),
    (
        "2.15",
        "∂J/∂b^(L) = H^(L) J_N^t = [Δ^(L) ⊙ ∂σ_L/∂Z^(L)] J_N^t   (erratum: J_N)",
        RELATION,
        (_VB, f"{_CON}.dJ_db"),
        (f"{_C}::test_hand_computed_value[vectorized-identity_1_1_1-eq_2_15_db2]",),
    ),
    (
        "2.16",
        "J(T, A^(L)) = 1/(2N) Σ_m ‖a_m^(L) − t_m‖²",
        RELATION,
        (
            "crosscheck.ffnn.losses._squared_error",
            "crosscheck.vectorized.forward.total_loss",
            "crosscheck.reference.objective.loss",
        ),
        (
            f"{_C}::test_hand_computed_loss[vectorized-eq_2_16_identity_1_1_1]",
            f"{_C}::test_hand_computed_loss[autodiff-eq_2_16_sigmoid_1_1_at_0]",
        ),
    ),
    (
        "2.17",
        "J(T, A^(L)) = 1/(2N) Σ_m Σ_j (A_jm^(L) − T_jm)²",
        RELATION,
        ("crosscheck.reference.objective.loss", "crosscheck.ffnn.losses._squared_error"),
        (f"{_R}::test_eq_2_17_loss_hand_worked",),
    ),
    (
        "2.18",
        "Δ_in^(L) = ∂J/∂A_in^(L) = 1/(2N) Σ_m Σ_j ∂/∂A_in^(L) (A_jm^(L) − T_jm)²",
        RELATION,
        (f"{_LIT}.delta_output",),
        (
            f"{_R}::test_eq_2_20_delta_L_hand_worked[literal]",
            f"{_REG}::test_eq_2_18_delta_L_is_the_derivative_of_eq_2_17",
        ),
    ),
    (
        "2.19",
        "1/(2N) Σ_m Σ_j 2(A_jm^(L) − T_jm) δ_ij δ_nm = 1/N (A_in^(L) − T_in)",
        RELATION,
        (f"{_LIT}.delta_output", f"{_CON}.delta_output"),
        (
            f"{_R}::test_eq_2_20_delta_L_hand_worked[literal]",
            f"{_REG}::test_index_form_holds[eq_2_19-vectorized]",
        ),
    ),
    (
        "2.20",
        "Δ^(L) = 1/N (A_in^(L) − T_in)   (erratum: Δ_in^(L) on the left)",
        RELATION,
        (f"{_CON}.delta_output",),
        (f"{_R}::test_eq_2_20_delta_L_hand_worked[contracted]",),
    ),
    (
        "2.21",
        "Δ^(L) = 1/N (A^(L) − T)",
        RELATION,
        ("crosscheck.ffnn.losses._squared_error_delta", _VB),
        (
            f"{_C}::test_eq_2_21_delta_L_squared_error[vectorized]",
            f"{_C}::test_hand_computed_value[vectorized-identity_1_1_1-eq_2_21_Delta2]",
        ),
    ),
    (
        "2.22",
        "∂J/∂W_ij^(L-1) = Σ_k Σ_n Σ_k' Σ_n' ∂J/∂A_kn^(L) ∂σ_L/∂Z_kn^(L) ∂Z_kn^(L)/∂A_k'n'^(L-1)"
        " ∂σ_{L-1}/∂Z_k'n'^(L-1) ∂Z_k'n'^(L-1)/∂W_ij^(L-1)",
        RELATION,
        (f"{_LIT}.dJ_dW", f"{_LIT}.delta_previous"),
        (f"{_REG}::test_index_form_holds[eq_2_22-vectorized]",),
    ),
    (
        "2.23",
        "∂Z_kn^(L)/∂A_k'n'^(L-1) = ∂/∂A_k'n'^(L-1) (W^(L) A^(L-1) + b^(L))_kn",
        RELATION,
        ("crosscheck.reference.forward.forward", f"{_LIT}.delta_previous"),
        (f"{_REG}::test_eq_2_23_to_2_25_dZ_dA_is_W_kk_delta_nn",),
    ),
    (
        "2.24",
        "= ∂/∂A_k'n'^(L-1) (Σ_l W_kl^(L) A_ln^(L-1) + b_k^(L))",
        RELATION,
        ("crosscheck.reference.forward.forward", f"{_LIT}.delta_previous"),
        (f"{_REG}::test_eq_2_23_to_2_25_dZ_dA_is_W_kk_delta_nn",),
    ),
    (
        "2.25",
        "Σ_l W_kl^(L) δ_lk' δ_nn' = W_kk'^(L) δ_nn'",
        RELATION,
        (f"{_LIT}.delta_previous",),
        (f"{_REG}::test_eq_2_23_to_2_25_dZ_dA_is_W_kk_delta_nn",),
    ),
    (
        "2.26",
        "∂J/∂W_ij^(L-1) = Σ_k Σ_n Σ_k' Σ_n' Δ_kn^(L) ∂σ_L/∂Z_kn W_kk'^(L) δ_nn'"
        " ∂σ_{L-1}/∂Z_k'n' δ_ik' A_jn'^(L-2)",
        RELATION,
        (f"{_LIT}.dJ_dW", f"{_LIT}.delta_previous"),
        (
            f"{_R}::test_eq_2_5_2_27_dW_hand_worked[eq_2_26_2_27-literal]",
            f"{_REG}::test_index_form_holds[eq_2_26-vectorized]",
        ),
    ),
    (
        "2.27",
        "Σ_k Σ_n H_kn^(L) W_ki^(L) ∂σ_{L-1}/∂Z_in^(L-1) A_jn^(L-2)",
        RELATION,
        (f"{_CON}.dJ_dW", f"{_CON}.delta_previous"),
        (
            f"{_R}::test_eq_2_5_2_27_dW_hand_worked[eq_2_26_2_27-contracted]",
            f"{_REG}::test_index_form_holds[eq_2_27-vectorized]",
        ),
    ),
    (
        "2.28",
        "∂J/∂W_ij^(L-1) = Σ_k Σ_n (W^(L))^t_ik H_kn^(L) ∂σ_{L-1}/∂Z_in^(L-1) (A^(L-2))^t_nj",
        RELATION,
        (f"{_CON}.dJ_dW", _VB),
        (f"{_REG}::test_index_form_holds[eq_2_28-vectorized]",),
    ),
    (
        "2.29",
        "Σ_n [(W^(L))^t H^(L)]_in ∂σ_{L-1}/∂Z_in^(L-1) (A^(L-2))^t_nj",
        RELATION,
        (f"{_CON}.dJ_dW", _VB),
        (f"{_REG}::test_index_form_holds[eq_2_29-vectorized]",),
    ),
    (
        "2.30",
        "∂J/∂W_ij^(L-1) = Σ_n [(W^(L))^t H^(L) ⊙ ∂σ_{L-1}/∂Z_in^(L-1)]_in (A^(L-2))^t_nj"
        "   (erratum: the matrix ∂σ_{L-1}/∂Z^(L-1) in the bracket)",
        RELATION,
        (_VB,),
        (),
    ),
    (
        "2.31",
        "[(W^(L))^t H^(L) ⊙ ∂σ_{L-1}/∂Z^(L-1) (A^(L-2))^t]_ij   (erratum: bracket before (A)^t)",
        RELATION,
        (_VB,),
        (),
    ),
    (
        "2.32",
        "∂J/∂W^(L-1) = [(W^(L))^t H^(L) ⊙ ∂σ_{L-1}/∂Z^(L-1)] (A^(L-2))^t,"
        "  Δ^(L-1) = (W^(L))^t H^(L)",
        RELATION,
        (_VB, f"{_CON}.delta_previous", f"{_LIT}.delta_previous"),
        (
            f"{_R}::test_eq_2_32_2_38_delta_below_output_hand_worked[eq_2_32_delta_L-1-literal]",
            f"{_V}::test_eq_2_25_2_32_Delta_recursion",
        ),
    ),
    (
        "2.33",
        "∂J/∂W^(L-1) = [Δ^(L-1) ⊙ ∂σ_{L-1}/∂Z^(L-1)] (A^(L-2))^t = H^(L-1) (A^(L-2))^t",
        RELATION,
        (_VB, f"{_CON}.dJ_dW"),
        (f"{_C}::test_hand_computed_value[vectorized-identity_1_1_1-eq_2_33_dW1]",),
    ),
    (
        "2.34",
        "H^(L-1) = Δ^(L-1) ⊙ ∂σ_{L-1}/∂Z^(L-1)",
        RELATION,
        (_VB, "crosscheck.reference.backward.hadamard"),
        (f"{_R}::test_eq_2_13_2_34_H_hand_worked[eq_2_34-literal]",),
    ),
    (
        "2.35",
        "∂Z_k'n'^(L-1)/∂b_i^(L-1) = δ_ik'",
        RELATION,
        (f"{_LIT}.dJ_db",),
        (f"{_REG}::test_eq_2_9_2_35_dZ_db_is_delta_ik[eq_2_35]",),
    ),
    (
        "2.36",
        "∂J/∂b_i^(L-1) = Σ_n [(W^(L))^t H^(L) ⊙ ∂σ_{L-1}/∂Z_in^(L-1)]_in = Σ_n H_in^(L-1)"
        "   (erratum: the matrix ∂σ_{L-1}/∂Z^(L-1) in the bracket)",
        RELATION,
        (f"{_CON}.dJ_db", _VB),
        (f"{_R}::test_eq_2_10_2_36_db_hand_worked[eq_2_36-contracted]",),
    ),
    (
        "2.37",
        "∂J/∂b^(L-1) = H^(L-1) J_N^t   (erratum: J_N)",
        RELATION,
        (_VB,),
        (f"{_C}::test_hand_computed_value[vectorized-identity_1_1_1-eq_2_37_db1]",),
    ),
    (
        "2.38",
        "Δ^(l-1) = (W^(l))^t H^(l) for l = L, …, 1 (eq 2.32 carried to every layer; Δ^(0) = ∂J/∂X)",
        EXTENSION,
        (f"{_LIT}.delta_previous", f"{_CON}.delta_previous", _VB),
        (
            f"{_R}::test_eq_2_32_2_38_delta_below_output_hand_worked"
            "[eq_2_38_delta_0_is_dJ_dX-literal]",
            f"{_C}::test_hand_computed_value[vectorized-identity_1_1_1-eq_2_32_Delta0_dJ_dX]",
        ),
    ),
)

_SM, _CE, _BCE = "tests/test_softmax.py", "tests/test_losses.py", "crosscheck.ffnn.losses"
_EXTENSIONS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "2.2'",
        "∂A_kn/∂Z_k'n' = J_kk'(n) δ_nn',  J_kk'(n) = A_kn (δ_kk' − A_k'n)  (softmax)",
        EXTENSION,
        (
            "crosscheck.ffnn.activations.Activation.jacobian",
            f"{_LIT}.softmax_dA_dZ",
            f"{_CON}.column_factors",
        ),
        (
            f"{_SM}::test_eq_2_2_prime_jacobian_hand_worked",
            f"{_SM}::test_eq_2_2_prime_jacobian_equals_jax_jacobian_per_column",
        ),
    ),
    (
        "2.8'",
        "H^(L) = (A^(L) ⊙ J_S sᵗ − T) / N,  s_n = Σ_k T_kn  (softmax + cross-entropy, fused)",
        EXTENSION,
        (
            f"{_BCE}._cross_entropy_H",
            f"{_LIT}.h_output_cross_entropy",
            f"{_CON}.h_output_cross_entropy",
        ),
        (f"{_CE}::test_eq_2_8_prime_fused_H_L_hand_worked",),
    ),
    (
        "2.8''",
        "H^(L) = (A^(L) − T) / N  (sigmoid + binary cross-entropy, fused)",
        EXTENSION,
        (
            f"{_BCE}._binary_cross_entropy_H",
            f"{_LIT}.h_output_binary_cross_entropy",
            f"{_CON}.h_output_binary_cross_entropy",
        ),
        (),
    ),
    (
        "2.13'",
        "H^(l)_k'n' = Σ_k Σ_n Δ^(l)_kn J_kk'(n) δ_nn' = Σ_k J_kk'(n') Δ^(l)_kn'",
        EXTENSION,
        (f"{_LIT}.h_column", f"{_CON}.h_column"),
        (
            f"{_SM}::test_eq_2_13_prime_hidden_softmax_H_hand_worked",
            f"{_REG}::test_extension_index_form_holds[eq_2_13_prime-vectorized]",
        ),
    ),
    (
        "2.13''",
        "H^(l) = A^(l) ⊙ (Δ^(l) − J_S J_Sᵗ (A^(l) ⊙ Δ^(l)))  (softmax, closed form)",
        EXTENSION,
        ("crosscheck.vectorized.jacobians.softmax_H",),
        (f"{_SM}::test_eq_2_13_pp_closed_form_equals_jacobian_contraction_2_13_prime",),
    ),
    (
        "2.16'",
        "J = −(1/N) Σ_n Σ_k T_kn log A^(L)_kn  (cross-entropy)",
        EXTENSION,
        (f"{_BCE}._cross_entropy_of_A", f"{_BCE}._cross_entropy"),
        (f"{_CE}::test_eq_2_16_prime_loss_hand_worked",),
    ),
    (
        "2.16''",
        "J = −(1/N) Σ_k Σ_n [T_kn log A^(L)_kn + (1 − T_kn) log(1 − A^(L)_kn)]"
        "  (binary cross-entropy)",
        EXTENSION,
        (f"{_BCE}._binary_cross_entropy_of_A", f"{_BCE}._binary_cross_entropy"),
        (f"{_REG}::test_eq_2_16_pp_2_17_pp_loss_from_A_equals_loss_from_logits",),
    ),
    (
        "2.17'",
        "log A_kn = (Z_kn − m_n) − log Σ_k' exp(Z_k'n − m_n),  m_n = max_k Z_kn",
        EXTENSION,
        (f"{_BCE}.log_softmax", f"{_BCE}._cross_entropy"),
        (f"{_CE}::test_eq_2_17_prime_two_layer_cross_entropy_loss_hand_worked",),
    ),
    (
        "2.17''",
        "J = (1/N) Σ_k Σ_n [T_kn s(−Z_kn) + (1 − T_kn) s(Z_kn)],  s(z) = log(1 + e^z)",
        EXTENSION,
        (f"{_BCE}._binary_cross_entropy",),
        (f"{_REG}::test_eq_2_16_pp_2_17_pp_loss_from_A_equals_loss_from_logits",),
    ),
    (
        "2.18'",
        "Δ^(L)_in = −(1/N) Σ_m Σ_j T_jm (1/A_jm) δ_ij δ_nm",
        EXTENSION,
        (f"{_LIT}.delta_output_cross_entropy",),
        (f"{_REG}::test_extension_index_form_holds[eq_2_18_prime_2_19_prime-vectorized]",),
    ),
    (
        "2.19'",
        "(the same sum, its deltas collapsed) = −T_in / (N A_in)",
        EXTENSION,
        (f"{_LIT}.delta_output_cross_entropy",),
        (f"{_REG}::test_extension_index_form_holds[eq_2_18_prime_2_19_prime-vectorized]",),
    ),
    (
        "2.20'",
        "Δ^(L)_in = −T_in / (N A_in)",
        EXTENSION,
        (f"{_CON}.delta_output_cross_entropy",),
        (),
    ),
    (
        "2.21'",
        "Δ^(L) = −T ⊘ (N A^(L))",
        EXTENSION,
        (f"{_BCE}._cross_entropy_delta", f"{_CON}.delta_output_cross_entropy"),
        (f"{_CE}::test_eq_2_21_prime_delta_L_hand_worked",),
    ),
    (
        "2.18''",
        "Δ^(L)_in = (1/N) Σ_m Σ_j [(1 − T_jm)/(1 − A_jm) − T_jm/A_jm] δ_ij δ_nm",
        EXTENSION,
        (f"{_LIT}.delta_output_binary_cross_entropy",),
        (f"{_REG}::test_extension_index_form_holds[eq_2_18_pp_2_19_pp-vectorized]",),
    ),
    (
        "2.19''",
        "(the same sum, its deltas collapsed) = [(1 − T_in)/(1 − A_in) − T_in/A_in] / N",
        EXTENSION,
        (f"{_LIT}.delta_output_binary_cross_entropy",),
        (f"{_REG}::test_extension_index_form_holds[eq_2_18_pp_2_19_pp-vectorized]",),
    ),
    (
        "2.20''",
        "Δ^(L)_in = [(1 − T_in)/(1 − A_in) − T_in/A_in] / N",
        EXTENSION,
        (f"{_CON}.delta_output_binary_cross_entropy",),
        (),
    ),
    (
        "2.21''",
        "Δ^(L) = [(1 − T) ⊘ (1 − A^(L)) − T ⊘ A^(L)] / N",
        EXTENSION,
        (f"{_BCE}._binary_cross_entropy_delta", f"{_CON}.delta_output_binary_cross_entropy"),
        (),
    ),
)
"""The extensions the code numbers with primes (docs/extensions.md): softmax, cross-entropy
(′), binary cross-entropy (″)."""


EQUATIONS: dict[str, Equation] = {
    number: Equation(number, statement, kind, implementations, tests + _form_tests(number))
    for number, statement, kind, implementations, tests in (*_TABLE, *_EXTENSIONS)
}
"""Equation number → Equation: the seed's in order, then 2.38 and the primed extensions."""


def resolve(dotted: str) -> Any:
    """The object a dotted name ("package.module.attribute.attribute") names.

    Raises:
        ImportError: no prefix of `dotted` is an importable module.
        AttributeError: the module lacks the attribute path.
    """
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f"no importable module in {dotted!r}")


def equations_markdown() -> str:
    """docs/equations.md: one table row per equation (statement, kind, code, tests, erratum)."""
    lines = [
        "# Equations → implementations → tests",
        "",
        "Generated from `crosscheck/equations/registry.py` by"
        " `python -m crosscheck.equations.registry`; do not edit.",
        "Equation numbers are the seed's (`general-ffnn-backprop.md`); 2.38 and the primed numbers",
        "are extensions ([extensions.md](extensions.md)).",
        "Printed forms that fail the shape check are listed in [errata.md](errata.md).",
        "",
        "| Eq | As printed | Kind | Implemented by | Tested by |",
        "|---|---|---|---|---|",
    ]
    for eq in EQUATIONS.values():
        code = "<br>".join(f"`{name}`" for name in eq.implementations)
        tests = "<br>".join(f"`{node}`" for node in eq.tests)
        statement = eq.statement.replace("|", "\\|")
        kind = eq.kind + (" (erratum)" if eq.erratum else "")
        lines.append(f"| {eq.number} | {statement} | {kind} | {code} | {tests} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(equations_markdown(), end="")
