"""Helpers of the test suite, one module per concern (tests/ is on the import path under
pytest): ``implementations`` (the listed implementations and their entry points as pytest
parameters), ``results`` (the arrays of a result, copies and casts of a problem)."""
