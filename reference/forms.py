"""The two forms of the reference: "literal" (sums as printed, Kronecker deltas included)
and "contracted" (the same loops after the deltas are applied).

Each form is a module offering the same four scalar entry functions:
``delta_output(A_L, T, i, n)`` (eqs 2.18–2.20), ``delta_previous(W, H, i, n)``
(eqs 2.25/2.32, extended as eq 2.38), ``dJ_dW(Delta, sigma_prime, A_prev, i, j)``
(eqs 2.5, 2.26/2.27) and ``dJ_db(Delta, sigma_prime, i)`` (eqs 2.10, 2.36).
"""

from __future__ import annotations

from types import ModuleType

from crosscheck.reference import contracted, literal

FORMS: dict[str, ModuleType] = {"literal": literal, "contracted": contracted}
"""Form name → module of scalar entry functions."""


def get_form(form: str) -> ModuleType:
    """Return the module of the form called `form`.

    Raises:
        ValueError: `form` is not ``"literal"`` or ``"contracted"`` (the message lists both).
    """
    if not isinstance(form, str) or form not in FORMS:
        raise ValueError(f"form must be 'literal' or 'contracted', got {form!r}")
    return FORMS[form]
