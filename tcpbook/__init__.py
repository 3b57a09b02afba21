"""tcpbook: TCP connection management made visible.

``tcpbook.simulate("close")`` runs a named scenario between host A (the client, who closes
first) and host B and returns a :class:`~tcpbook.trace.Trace`; the renderers in
``tcpbook.render`` draw it. Importing this package stays light: matplotlib, graphviz and
ipywidgets are imported only by the modules that draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .errors import IllegalCall, TcpbookError
from .profiles import DEFAULT_PROFILE, PROFILES
from .scenarios import SCENARIOS
from .sim import ISN_A, ISN_B, LATENCY, Params, _as_drops, simulate_scenario
from .states import TRANSITIONS, State
from .trace import Trace

__version__ = "0.1.0"

DEFAULT_MSL = 30.0  # the plain model's MSL, Linux's effective one (TIME_WAIT 60 s)


def simulate(
    scenario: str = "close",
    *,
    msl: float | None = None,
    drop: Iterable[int] | int | None = None,
    delay: Mapping[int, float] | None = None,
    duplicate: Mapping[int, float] | None = None,
    fin_timeout: float | None = None,
    skip_time_wait: bool = False,
    rfc1337: bool | None = None,
    until: float | None = None,
    latency: float = LATENCY,
    rto: float | None = None,
    syn_retries: int | None = None,
    isn_a: int = ISN_A,
    isn_b: int = ISN_B,
    profile: str | None = None,
) -> Trace:
    """Run the named scenario and return its trace.

    ``drop`` lists segments to lose by send order (1 is the first segment of the run,
    retransmissions count); ``None`` keeps the scenario's own loss (``late-fin`` has one) and
    ``()`` loses nothing. ``delay`` adds seconds to chosen segments' flight, ``duplicate``
    makes the network deliver a second copy of a segment that many seconds after the first.
    ``profile`` picks the kernel the endpoints imitate (``linux``, ``freebsd`` or
    ``rfc9293``, see :mod:`tcpbook.profiles`; ``None`` is the plain model: a fixed RTO,
    immediate ACKs); ``msl``, ``rto``, ``syn_retries``, ``fin_timeout`` and ``rfc1337`` given
    explicitly override its values. Bad values raise :class:`TcpbookError` (a ``ValueError``)
    with a one-line message.
    """
    from .profiles import get as get_profile
    from .scenarios import get

    script = get(scenario)
    if msl is None:
        msl = DEFAULT_MSL if profile is None else get_profile(profile).msl
    defaults = script.defaults(float(msl)) if script.defaults and _finite(msl) else {}
    params = Params(
        msl=msl,
        latency=latency,
        drop=_as_drops(drop),
        delay=dict(defaults.get("delay", {}) if delay is None else delay),
        duplicate=dict(defaults.get("duplicate", {}) if duplicate is None else duplicate),
        fin_timeout=fin_timeout,
        skip_time_wait=bool(skip_time_wait),
        rfc1337=None if rfc1337 is None else bool(rfc1337),
        until=until,
        rto=rto,
        syn_retries=syn_retries,
        isn_a=isn_a,
        isn_b=isn_b,
        profile=profile,
    )
    return simulate_scenario(script, params)


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and 0 < float(x) < float("inf")


__all__ = [
    "DEFAULT_MSL",
    "DEFAULT_PROFILE",
    "PROFILES",
    "SCENARIOS",
    "TRANSITIONS",
    "IllegalCall",
    "State",
    "TcpbookError",
    "Trace",
    "simulate",
]
