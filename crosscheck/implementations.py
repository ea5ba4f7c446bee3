"""The implementations of the DESIGN §3 contract, listed once.

Each offers ``loss(network, params, X, T) -> float``, ``gradients(network, params, X, T) ->
grads`` and ``backprop(network, params, X, T) -> (grads, trace)``, with X (S_0, N), T (S_L, N),
``grads[l-1].W`` (S_l, S_{l-1}), ``grads[l-1].b`` (S_l,) and a ``crosscheck.ffnn.Trace`` of
(S_l, N) arrays. The reference appears twice, once per form (``form="literal"``: the sums as
the seed prints them, Kronecker deltas kept; ``"contracted"``: after the deltas collapse).

`IMPLEMENTATIONS` is what ``crosscheck verify`` runs (``crosscheck.verify.verification
.default_lineup``), what ``crosscheck bench`` times (``crosscheck.bench.cases``), what the
equation registry evaluates every form on, and what the tests parametrise over
(tests/test_contract.py, test_agreement.py, test_losses.py, test_registry.py).

An entry names its module; the module is imported when one of its functions is first looked
up, so importing this list (and ``crosscheck --help``) never imports JAX.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Implementation:
    """One implementation of the contract: where it lives and what it promises.

    Attributes:
        key: the short name in test ids, the registry and ``crosscheck bench``:
            ``"literal"``, ``"contracted"``, ``"vectorized"``, ``"autodiff"``.
        name: shown in reports, e.g. ``"reference (literal)"``.
        module: the module offering ``loss``, ``gradients`` and ``backprop``.
        form: the reference's ``form=`` argument ("literal" or "contracted"); None for an
            implementation with one form.
        needs_jax: whether importing `module` imports JAX.
        keeps_float32: whether float32 inputs give float32 results (False: float64 results,
            as the reference's scalar loops run on Python floats whatever the input dtype).
        flushes_subnormals: whether subnormal inputs and results become 0 (XLA on CPU), so
            a result may differ from IEEE arithmetic by up to the smallest normal number.
    """

    key: str
    name: str
    module: str
    form: str | None = None
    needs_jax: bool = False
    keeps_float32: bool = True
    flushes_subnormals: bool = False

    def imported(self) -> ModuleType:
        """The implementation's module, imported now if it was not (JAX for autodiff)."""
        return importlib.import_module(self.module)

    def _function(self, name: str) -> Callable[..., Any]:
        function = getattr(self.imported(), name)
        return function if self.form is None else partial(function, form=self.form)

    @property
    def loss(self) -> Callable[..., float]:
        """``(network, params, X, T) -> J``, a Python float (eq 2.16 and its extensions)."""
        return self.imported().loss

    @property
    def gradients(self) -> Callable[..., tuple[Any, ...]]:
        """``(network, params, X, T) -> grads``: L Layers of ∂J/∂W^(l), ∂J/∂b^(l)."""
        return self._function("gradients")

    @property
    def backprop(self) -> Callable[..., tuple[tuple[Any, ...], Any]]:
        """``(network, params, X, T) -> (grads, trace)``, trace a ``crosscheck.ffnn.Trace``."""
        return self._function("backprop")


LITERAL = Implementation(
    key="literal",
    name="reference (literal)",
    module="crosscheck.reference",
    form="literal",
    keeps_float32=False,
)
CONTRACTED = Implementation(
    key="contracted",
    name="reference (contracted)",
    module="crosscheck.reference",
    form="contracted",
    keeps_float32=False,
)
VECTORIZED = Implementation(key="vectorized", name="vectorized", module="crosscheck.vectorized")
AUTODIFF = Implementation(
    key="autodiff",
    name="autodiff",
    module="crosscheck.autodiff_oracle",
    needs_jax=True,
    flushes_subnormals=True,
)

IMPLEMENTATIONS: tuple[Implementation, ...] = (LITERAL, CONTRACTED, VECTORIZED, AUTODIFF)
"""Every implementation, the reference's two forms first."""


def by_key(key: str) -> Implementation:
    """The implementation whose `key` is `key`.

    Raises:
        ValueError: an unknown key, listing the known ones.
    """
    for implementation in IMPLEMENTATIONS:
        if implementation.key == key:
            return implementation
    known = ", ".join(implementation.key for implementation in IMPLEMENTATIONS)
    raise ValueError(f"unknown implementation {key!r}; known: {known}")
