"""crosscheck: compare the three backprop implementations, and check other people's."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ffnn-crosscheck")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
