"""One screen per module; each keeps its stylesheet beside it."""

from console.screens.templates import TemplatesScreen

__all__ = ["TemplatesScreen"]
