"""``crosscheck verify``: every implementation on real data, compared (DESIGN §5).

- ``datasets``: scikit-learn's bundled data sets, or the user's .npz, as X (S_0, N), T (S_L, N).
- ``verification``: the plan (network, parameters, subsample, entries) and its checks.
- ``render``: the report's tables.
"""

__all__ = ["Plan", "PlanTooLargeError", "Verification", "make_plan", "verify"]


def __getattr__(name: str) -> object:
    # Lazy: ``crosscheck verify --help`` reads ``datasets`` (NumPy) alone, not the comparison
    # machinery with SciPy.
    if name in __all__:
        from crosscheck.verify import verification

        return getattr(verification, name)
    raise AttributeError(f"module 'crosscheck.verify' has no attribute {name!r}")
