"""crosscheck: compare the three backprop implementations, and check other people's."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ffnn-crosscheck")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["GradientMismatch", "__version__", "check_gradients", "check_problem"]


def __getattr__(name: str) -> object:
    # Lazy: `crosscheck --help` and `--version` must not import NumPy, hypothesis or JAX.
    if name in ("check_gradients", "check_problem", "GradientMismatch"):
        from crosscheck import oracle

        return getattr(oracle, name)
    raise AttributeError(f"module 'crosscheck' has no attribute {name!r}")
