"""``crosscheck bench``: the matrix form against its floors, the references and JAX (DESIGN §6).

- ``cases``: the benchmark problems and the implementations timed on them.
- ``timing``: repeated timing of one call. ``growth``: fitted growth exponents.
- ``run``: the whole benchmark (``run_bench``). ``report``: its JSON, markdown and plots.
"""

from crosscheck.bench.run import BenchResult, run_bench

__all__ = ["BenchResult", "run_bench"]
