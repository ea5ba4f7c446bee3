"""The implementations of ``crosscheck.implementations`` as pytest parameters.

Ids are the implementations' keys (``literal``, ``contracted``, ``vectorized``, ``autodiff``);
an implementation that needs JAX is marked ``jax``, so ``-m "not jax"`` runs never import it
(the list imports a module only when one of its functions is looked up).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from crosscheck.implementations import CONTRACTED, IMPLEMENTATIONS, Implementation, by_key

FUNCTIONS = ("loss", "gradients", "backprop")
"""The contract's functions (DESIGN §3)."""


def _marks(implementation: Implementation) -> tuple[pytest.MarkDecorator, ...]:
    return (pytest.mark.jax,) if implementation.needs_jax else ()


def implementation_params(keys: Iterable[str] | None = None) -> list[Any]:
    """The implementations (all, or those of `keys`, in that order) as pytest params."""
    chosen = IMPLEMENTATIONS if keys is None else tuple(by_key(key) for key in keys)
    return [pytest.param(impl, id=impl.key, marks=_marks(impl)) for impl in chosen]


@dataclass(frozen=True)
class Call:
    """One entry point of the contract: `function` of `implementation`, called as
    ``call(network, params, X, T)``; the module is imported on the first call."""

    implementation: Implementation
    function: str

    @property
    def id(self) -> str:
        """e.g. ``"vectorized-gradients"``."""
        return f"{self.implementation.key}-{self.function}"

    def __call__(self, *args: Any) -> Any:
        return getattr(self.implementation, self.function)(*args)


CALLS: dict[str, Call] = {
    call.id: call
    for call in (
        Call(implementation, function)
        for implementation in IMPLEMENTATIONS
        for function in FUNCTIONS
        # J has no form: the reference's one loss is listed once, under its default form
        if function != "loss" or implementation.form in (None, CONTRACTED.form)
    )
}
"""Every public entry point of the contract, each form of the reference, by id."""


def call_params(functions: Iterable[str] = FUNCTIONS) -> list[Any]:
    """The entry points of `functions` as pytest params, id ``"<key>-<function>"``."""
    wanted = tuple(functions)
    return [
        pytest.param(call, id=call.id, marks=_marks(call.implementation))
        for call in CALLS.values()
        if call.function in wanted
    ]
