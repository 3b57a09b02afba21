"""tcpbook: TCP connection management made visible.

``tcpbook.simulate("close")`` runs a named scenario between host A (the client, who closes
first) and host B and returns a :class:`~tcpbook.trace.Trace`; the renderers in
``tcpbook.render`` draw it. Importing this package stays light: matplotlib, graphviz and
ipywidgets are imported only by the modules that draw.
"""

from __future__ import annotations

from typing import Any

from . import native

native.activate(__path__)  # the compiled core, when built from these sources: before any import

from .errors import IllegalCall, TcpbookError
from .profiles import DEFAULT_PROFILE, PROFILES
from .scenarios import SCENARIOS, get
from .settings import DEFAULT_MSL, Settings
from .sim import simulate_scenario
from .states import TRANSITIONS, State
from .trace import Trace

__version__ = "0.1.0"


def simulate(scenario: str = "close", settings: Settings | None = None, **changes: Any) -> Trace:
    """Run the named scenario and return its trace.

    The keywords are the fields of :class:`~tcpbook.settings.Settings` (on top of ``settings``
    when given): ``msl`` (seconds), ``drop``, ``delay``, ``duplicate``, ``fin_timeout``,
    ``skip_time_wait``, ``rfc1337``, ``until``, ``latency``, ``rto``, ``syn_retries``, ``isn_a``,
    ``isn_b``, ``profile``. ``profile`` picks the kernel the endpoints imitate (``linux``,
    ``freebsd`` or ``rfc9293``, see :mod:`tcpbook.profiles`; ``linux`` unless given);
    ``msl``, ``rto``, ``syn_retries``, ``fin_timeout`` and ``rfc1337`` given explicitly
    override its values. ``drop`` lists segments to lose by send order (1 is
    the first segment of the run, retransmissions count); ``None`` keeps the scenario's own
    loss (``late-fin`` has one) and ``()`` loses nothing. ``delay`` adds seconds to chosen
    segments' flight, ``duplicate`` makes the network deliver a second copy of a segment that
    many seconds after the first. ``msl=None`` means the default. Bad values raise
    :class:`TcpbookError` (a ``ValueError``) with a one-line message.
    """
    script = get(scenario)
    if changes.get("msl", 0) is None:
        del changes["msl"]
    return simulate_scenario(script, Settings.build(settings, **changes))


__all__ = [
    "DEFAULT_MSL",
    "DEFAULT_PROFILE",
    "PROFILES",
    "SCENARIOS",
    "TRANSITIONS",
    "IllegalCall",
    "Settings",
    "State",
    "TcpbookError",
    "Trace",
    "simulate",
]
