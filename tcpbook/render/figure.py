"""Figures that show themselves in Jupyter, whether or not pyplot's inline backend is on.

A matplotlib ``Figure`` made outside pyplot has no picture of its own in Jupyter: the inline
backend registers its PNG formatter only when pyplot is imported (``%matplotlib inline``), and
without it a cell stores just ``<Figure size 640x360 with 1 Axes>``. :class:`ShownFigure` carries
its own ``_repr_png_`` so it displays everywhere; IPython uses a registered formatter first when
there is one, so with ``%matplotlib inline`` nothing changes.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

#: Resolution of a figure's own PNG: the ladders' 100 dpi, so a 6.4-inch plot is 640 px wide.
PNG_DPI = 100


def figure_png(fig: Figure, dpi: float = PNG_DPI) -> bytes:
    """PNG bytes of ``fig``, trimmed to its content, with no timestamp (stable bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


class ShownFigure(Figure):
    """A ``Figure`` that Jupyter shows as a PNG, with or without pyplot."""

    def __repr__(self) -> str:
        return super().__repr__().replace(type(self).__name__, "Figure", 1)

    def _repr_png_(self) -> bytes:
        return figure_png(self)


__all__ = ["PNG_DPI", "ShownFigure", "figure_png"]
