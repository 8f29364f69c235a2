"""FastAPI service generated from the Golden Path Portal."""

__version__ = "0.1.0"
