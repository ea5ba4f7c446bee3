"""``crosscheck verify``: every implementation on real data, compared (DESIGN §5).

- ``datasets``: scikit-learn's bundled data sets, or the user's .npz, as X (S_0, N), T (S_L, N).
- ``verification``: the plan (network, parameters, subsample, entries) and its checks.
- ``render``: the report's tables.
"""

from crosscheck.verify.verification import (
    Plan,
    PlanTooLargeError,
    Verification,
    make_plan,
    verify,
)

__all__ = ["Plan", "PlanTooLargeError", "Verification", "make_plan", "verify"]
