"""Single source of the version number (read by setuptools and `--version`)."""

__version__ = "0.1.0"
