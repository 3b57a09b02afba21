"""Drive it yourself, the panel: ipywidgets buttons for every move, the diagrams beside them.

The model (:class:`~tcpbook.drive.model.Driver`) knows nothing of widgets; this module shows it:
one button per move on offer, the state diagram of both sides, a ladder that grows with every
move, the end of the log, and undo (replaying every move but the last: the model is pure). A
notebook without a live kernel sees a PNG of the ladder beside the state diagram instead.
"""

from __future__ import annotations

import re
from typing import Any

import ipywidgets as W
from matplotlib.figure import Figure

from .model import Driver, Move, Outcome

LOG_LINES = 14  # the panel shows the end of the log; Driver.log keeps all of it
PANEL_DPI = 80
#: Graphviz writes a fixed size in pt; the panel lets the diagram shrink with its box instead.
_SVG_SIZE = re.compile(r'<svg([^>]*?) width="([0-9.]+)pt" height="[0-9.]+pt"')
STATIC_DIAGRAM_HEIGHT = 520  # pixels: the state diagram stays readable next to a short ladder


class DrivePanel(W.VBox):  # type: ignore[misc]
    """Buttons for every move, the state diagram of both sides, a growing ladder and a log.

    ``.driver`` is the :class:`Driver` in use; ``.press(move)`` is what a button does.
    """

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.history: list[str] = [str(o.move) for o in driver.outcomes if o.ok]
        self._fig = Figure(figsize=(7.0, 5.0))
        self.status_html = W.HTML()
        self.message_html = W.HTML()
        self.button_rows = W.VBox()
        self.diagram_html = W.HTML(layout=W.Layout(width="100%", overflow="auto"))
        self.ladder_image = W.Image(
            format="png",
            layout=W.Layout(max_width="100%", height="auto", object_fit="contain"),
        )
        self.log_html = W.HTML()
        undo = W.Button(description="undo", icon="undo", layout=W.Layout(width="auto"))
        again = W.Button(description="start again", icon="refresh", layout=W.Layout(width="auto"))
        undo.on_click(lambda _b: self.replay(self.history[:-1]))
        again.on_click(lambda _b: self.replay([]))
        super().__init__(
            children=[
                self.status_html,
                self.button_rows,
                W.HBox([undo, again]),
                self.message_html,
                W.Box(
                    [
                        W.Box([self.ladder_image], layout=W.Layout(flex="1 1 420px")),
                        W.Box([self.diagram_html], layout=W.Layout(flex="1 1 420px")),
                    ],
                    layout=W.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"),
                ),
                self.log_html,
            ]
        )
        self.add_class("tcpbook-drive")
        self.refresh()

    def replay(self, moves: list[str]) -> None:
        """Start from scratch and replay ``moves`` (how undo works: the core is pure)."""
        self.driver = Driver(**self.driver.options)
        self.driver.run(moves)
        self.history = list(moves)
        self.message_html.value = ""
        self.refresh()

    def press(self, move: Move | str) -> Outcome:
        from html import escape

        outcome = self.driver.apply(move)
        if outcome.ok:
            self.history.append(str(outcome.move))
            self.message_html.value = ""
        else:
            text = escape(outcome.text)
            self.message_html.value = f"<span style='color:#b00020'>{text}</span>"
        self.refresh()
        return outcome

    def _row(self, title: str, moves: list[Move]) -> Any:
        buttons = []
        for move in moves:
            label = move.name if move.kind == "call" else str(move)
            button = W.Button(description=label, layout=W.Layout(width="auto"))
            button.on_click(lambda _b, m=move: self.press(m))
            buttons.append(button)
        if not buttons:
            buttons = [W.Label("(nothing)")]
        return W.HBox([W.Label(title, layout=W.Layout(width="7em")), *buttons])

    @property
    def status(self) -> str:
        d = self.driver
        flying = sum(len(q) for q in d.flight.values())
        plural = "" if flying == 1 else "s"
        return (
            f"t = {d.now:g} s · A: {d.state('A')} · B: {d.state('B')} · "
            f"{flying} segment{plural} in flight"
        )

    def refresh(self) -> None:
        from html import escape

        from .. import render

        d = self.driver
        moves = d.moves()
        calls = [m for m in moves if m.kind == "call"]
        self.button_rows.children = [
            self._row("network", [m for m in moves if m.kind in ("deliver", "lose")]),
            self._row("timers", [m for m in moves if m.kind == "fire"]),
            self._row("A calls", [m for m in calls if m.endpoint == "A"]),
            self._row("B calls", [m for m in calls if m.endpoint == "B"]),
        ]
        self.status_html.value = f"<b>{escape(self.status)}</b>"
        trace = d.trace
        svg = render.state_diagram(trace, endpoint="both").svg()
        self.diagram_html.value = _SVG_SIZE.sub(
            r'<svg\1 width="100%" style="max-width: \2pt; height: auto"', svg, count=1
        )
        if trace.transitions:
            self._fig = render.ladder(trace, fig=self._fig)
            self.ladder_image.value = _png(self._fig)
            self.ladder_image.layout.display = None
        else:  # nothing has happened yet: an empty ladder is only a pair of lines
            self.ladder_image.layout.display = "none"
        tail = escape("\n".join(d.log[-LOG_LINES:]))
        self.log_html.value = f"<pre style='font-size:90%'>{tail}</pre>"

    def static(self) -> bytes:
        """A PNG of the ladder next to the state diagram, for readers without a kernel."""
        import graphviz

        from .. import render

        trace = self.driver.trace
        source = render.state_diagram(trace, endpoint="both").source
        diagram: bytes = graphviz.Source(source).pipe(format="png")
        return _beside(_png(render.ladder(trace, fig=Figure())), diagram)

    def __repr__(self) -> str:
        return f"<DrivePanel {self.status}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        import base64

        data: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
        if data is None:
            return None
        data["text/plain"] = f"Drive it yourself: {self.status}"
        data["image/png"] = base64.b64encode(self.static()).decode("ascii")
        return data


def _beside(ladder_png: bytes, diagram_png: bytes) -> bytes:
    """The ladder at its own size, the state diagram scaled to a readable height, tops aligned."""
    import io

    from PIL import Image

    a = Image.open(io.BytesIO(ladder_png)).convert("RGB")
    b = Image.open(io.BytesIO(diagram_png)).convert("RGB")
    height = max(a.height, STATIC_DIAGRAM_HEIGHT)
    b = b.resize((round(b.width * height / b.height), height), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (a.width + 16 + b.width, height), "white")
    canvas.paste(a, (0, 0))
    canvas.paste(b, (a.width + 16, 0))
    buf = io.BytesIO()
    canvas.save(buf, format="png", optimize=True)
    return buf.getvalue()


def _png(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PANEL_DPI, metadata={"Software": None})
    return buf.getvalue()


def drive(driver: Driver | None = None, **kwargs: Any) -> DrivePanel:
    """An ipywidgets panel around a :class:`Driver`: one button per move, diagrams below.

    ``kwargs`` go to :class:`Driver` (``msl=5``, ``rfc1337=True``, ...). The panel's ``.driver``
    is the scriptable core in use and ``.press("A connect")`` makes a move as a button would.
    """
    return DrivePanel(driver if driver is not None else Driver(**kwargs))


__all__ = ["DrivePanel", "drive"]
