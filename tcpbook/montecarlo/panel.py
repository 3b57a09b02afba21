"""Monte Carlo, the panel: sliders for loss, MSL and connection rate over the dashboard."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ..settings import DEFAULT_MSL
from .models import time_wait_population
from .plots import dashboard
from .sampling import run

if TYPE_CHECKING:
    pass


MSL_CHOICES: tuple[tuple[str, float], ...] = (
    ("0.5 s", 0.5),
    ("1 s", 1.0),
    ("2 s", 2.0),
    ("5 s", 5.0),
    ("15 s", 15.0),
    ("30 s (Linux)", 30.0),  # TCP_TIMEWAIT_LEN = 60 s = 2MSL
    ("60 s", 60.0),
    ("120 s (RFC 9293)", 120.0),  # RFC 9293 section 3.4.2
)
RATE_CHOICES = (100, 300, 1_000, 3_000, 10_000, 30_000)
EXPLORE_DPI = 72


def explorer(*, n: int = 300, big: int = 20_000, seed: int = 1) -> Any:
    """Sliders for loss, MSL and connection rate over the four-panel :func:`dashboard`.

    Each move re-runs ``n`` lifecycles (fast enough to follow a slider); the button runs
    ``big`` of them on every core for smoother curves.
    """
    import html

    import ipywidgets as W

    p = W.FloatSlider(
        value=0.1, min=0.0, max=0.5, step=0.01, description="loss p", continuous_update=False
    )
    msl = W.SelectionSlider(
        options=MSL_CHOICES, value=DEFAULT_MSL, description="MSL", continuous_update=False
    )
    rate = W.SelectionSlider(
        options=[(f"{r:,}/s", r) for r in RATE_CHOICES],
        value=10_000,
        description="closes",
        continuous_update=False,
    )
    button = W.Button(description=f"run {big:,} lifecycles", icon="play")
    image = W.Image(format="png")
    status = W.HTML()

    def redraw(size: int) -> None:
        res = run(n=size, p=p.value, msl=msl.value, seed=seed, progress=False)
        pop = time_wait_population(
            rate.value, msl.value, durations=res.time_wait_durations, p=p.value, seed=seed
        )
        fig = dashboard(res, pop)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=EXPLORE_DPI)
        image.value = buf.getvalue()
        status.value = f"<pre>{html.escape(res.summary())}\n{html.escape(repr(pop))}</pre>"

    for control in (p, msl, rate):
        control.observe(lambda _change: redraw(n), names="value")
    button.on_click(lambda _b: redraw(big))
    redraw(n)
    from ..display import StillBox

    text = f"Monte Carlo explorer: {n} lifecycles per move, loss p={p.value:g}, MSL {msl.value:g} s"
    return StillBox(
        [W.HBox([p, msl, rate, button]), image, status], still=lambda: image.value, text=text
    )


__all__ = ["explorer"]
