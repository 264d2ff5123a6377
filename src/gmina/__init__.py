"""gmina: a platform for a consortium of Polish municipalities."""

__version__ = "0.1.0"
