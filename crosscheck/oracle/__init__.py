"""The oracle for other people's backprop (DESIGN §5 "Oracle for others").

- ``search``: ``check_gradients`` (a hypothesis search, shrunk), ``check_example`` (one
  given problem, suite layout) and ``check_problem`` (the user's own arrays, their layout).
- ``judge``: one example under the oracle: the function's output and its first finding.
- ``diagnosis``: what a failing output is: catalogued bugs and where they live, consistency.
- ``relations``: the function's value per quantity and layer in terms of the suite's;
  ``conventions``: loss conventions of J and of the gradient; ``expected``: the suite's
  values with their allowed errors; ``followup``: the diagnosis of an example and reruns where
  it hides something (N = S_l, zeros, coinciding names).
- ``report``: the report, as rich renderables, text and JSON.
- ``layouts``: the function's array layout (rows, in_out) and reading its output.
- ``catalogue``: the catalogue of faulty backprops; ``selftest``: its kill table.
- ``failure_file``: saving and replaying a failing example.
- ``external``: PyTorch and scikit-learn as functions under test.
- ``calling``: one call of the function under check; ``worker``: calls in a worker process.
"""

__all__ = [
    "CheckReport",
    "CheckSettings",
    "GradientMismatch",
    "check_example",
    "check_gradients",
    "check_problem",
]


def __getattr__(name: str) -> object:
    # Lazy: the worker process (``worker``) imports ``calling`` and ``layouts`` alone, not the
    # search with hypothesis, SciPy's optimisers and the diagnosis.
    if name in __all__:
        from crosscheck.oracle import search

        return getattr(search, name)
    raise AttributeError(f"module 'crosscheck.oracle' has no attribute {name!r}")
