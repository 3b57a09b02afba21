"""A widget box that is stored with a picture of itself.

:class:`StillBox` is an ipywidgets ``VBox`` whose display also carries a static PNG and a line
of text, for readers of the stored notebook where no kernel runs (GitHub, nbviewer). Figures
that show themselves without pyplot live with the renderers (:mod:`tcpbook.render.figure`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as W


class StillBox(W.VBox):  # type: ignore[misc]
    """A ``VBox`` displayed with a static picture of itself and one line of text.

    ``still`` returns the PNG as the widget looks now; ``text`` is the plain-text display.
    """

    def __init__(
        self, children: Sequence[W.Widget], *, still: Callable[[], bytes], text: str, **kw: Any
    ) -> None:
        super().__init__(children=list(children), **kw)
        self._still = still
        self._text = text

    def __repr__(self) -> str:
        return self._text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        data: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
        if data is None:
            return None
        data["text/plain"] = self._text
        data["image/png"] = base64.b64encode(self._still()).decode("ascii")
        return data


__all__ = ["StillBox"]
