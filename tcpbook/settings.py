"""Every setting of a run in one place: :class:`Settings`, its defaults and its validation.

A run is shaped by its scenario's script and by these numbers: how long a segment may live
(MSL), how slow the network is, which segments it loses, delays or duplicates, and the endpoint
knobs the RFC leaves open. ``tcpbook.simulate``, the command line, the drive-it-yourself model,
the explorer and Monte Carlo all build a :class:`Settings`, so each default is written once and
each bad value gets the same one-line :class:`SettingError` wherever it comes from.

Adding a setting is one line in :class:`Settings` (with its check); the endpoint's
:class:`~tcpbook.endpoint.Config` is derived from it in one function, :func:`endpoint_config`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from copy import copy
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from .endpoint import DEFAULT, Config, config_for
from .errors import TcpbookError
from .profiles import DEFAULT_PROFILE, PROFILES
from .profiles import get as get_profile

if TYPE_CHECKING:
    from .scenarios import Scenario

#: The default profile's MSL (``linux``: TIME_WAIT is fixed at 60 s = 2 x 30 s,
#: TCP_TIMEWAIT_LEN in include/net/tcp.h; RFC 9293 section 3.4.1 suggests 2 minutes).
DEFAULT_MSL: float = DEFAULT.msl
LATENCY = 0.05  # one-way delay in seconds: a 100 ms round trip, easy to read on a ladder
ISN_A = 1000
ISN_B = 5000


class SettingError(TcpbookError):
    """A bad setting: ``name`` is the setting, ``reason`` what is allowed, ``value`` what came.

    The message is one line, ``"<name> <reason>, got <value>"``; the command line re-words it
    with its option's spelling (``--msl``).
    """

    def __init__(self, name: str, reason: str, value: Any) -> None:
        super().__init__(f"{name} {reason}, got {value!r}")
        self.name = name
        self.reason = reason
        self.value = value


# -- checks: each takes (name, value) and returns the value to keep, or raises SettingError --


def seconds(name: str, value: Any, *, positive: bool = False) -> float:
    """A finite number of seconds (above 0 with ``positive``, else 0 or more)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingError(name, "must be a number of seconds", value)
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        raise SettingError(name, "must be a finite number of seconds", value)
    if positive and x <= 0:
        raise SettingError(name, "must be greater than 0 seconds", value)
    if x < 0:
        raise SettingError(name, "must be 0 or more seconds", value)
    return x


def _positive_seconds(name: str, value: Any) -> float:
    return seconds(name, value, positive=True)


def _seconds_or_none(name: str, value: Any) -> float | None:
    return None if value is None else seconds(name, value)


def segment_number(name: str, value: Any) -> int:
    """A segment's number in send order (1 is the first segment of the run)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingError(name, "takes segment numbers (integers from 1, in send order)", value)
    return value


def segment_numbers(name: str, value: Any) -> tuple[int, ...] | None:
    """None (the scenario's own losses), one segment number, or any iterable of them."""
    if value is None:
        return None
    if isinstance(value, bool | str | bytes):
        raise SettingError(name, "takes segment numbers (integers from 1)", value)
    if isinstance(value, int):
        value = (value,)
    if not isinstance(value, Iterable):
        raise SettingError(name, "takes segment numbers (integers from 1)", value)
    return tuple(segment_number(name, n) for n in value)


def _per_segment(name: str, value: Any) -> dict[int, float] | None:
    """None (the scenario's own) or ``{segment number: seconds}``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise SettingError(name, "takes {segment number: seconds}", value)
    return {segment_number(name, n): seconds(f"{name} of segment {n}", s) for n, s in value.items()}


def _flag(name: str, value: Any) -> bool:
    return bool(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(name, "must be an integer", value)
    if value < 0:
        raise SettingError(name, "must be 0 or more", value)
    return value


def _profile(name: str, value: Any) -> str:
    """The name of a kernel profile (:mod:`tcpbook.profiles`)."""
    if isinstance(value, str) and value in PROFILES:
        return value
    raise SettingError(name, f"must be one of: {', '.join(PROFILES)}", value)


class _DefaultFloat(float):
    """A default number, told apart from the same number given explicitly (``is``): a profile
    replaces a default, never a value the caller chose."""


class _DefaultInt(int):
    """The same for a count."""


def _default_syn_retries() -> _DefaultInt | None:
    """The default profile's SYN retry count, marked as a default (``None``: by time only)."""
    n = DEFAULT.syn_retries
    return None if n is None else _DefaultInt(n)


def _count_or_none(name: str, value: Any) -> int | None:
    return None if value is None else _count(name, value)


def _isn(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise SettingError(name, "must be an integer from 0 to 4294967295", value)
    return value


# -- how each kind of value goes into a trace's "params" -----------------------------------


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _segment_table(value: Mapping[int, float] | None) -> dict[str, float]:
    return {str(k): float(v) for k, v in sorted((value or {}).items())}


def _as_list(value: Iterable[int] | None) -> list[int]:
    return list(value or ())


def _same(value: Any) -> Any:
    return value


def _plain_int(value: int | None) -> int | None:
    return None if value is None else int(value)


def setting(
    default: Any, check: Callable[[str, Any], Any], record: Callable[[Any], Any] | None = _same
) -> Any:
    """A field of :class:`Settings`: its default, its check, how a trace records it.

    ``record=None`` keeps a setting out of traces' ``params`` (and so out of stored runs).
    """
    return field(default=default, metadata={"check": check, "record": record})


@dataclass(frozen=True)
class Settings:
    """Everything that shapes a run besides the scenario's script (validated on creation).

    ``drop`` lists segments to lose by send order (``None``: the scenario's own losses, ``()``:
    none); ``delay`` adds seconds to chosen segments' flight and ``duplicate`` makes the network
    deliver a second copy that many seconds later (``None``: the scenario's own).
    """

    msl: float = setting(_DefaultFloat(DEFAULT_MSL), _positive_seconds, float)
    latency: float = setting(LATENCY, seconds, float)
    drop: tuple[int, ...] | None = setting(None, segment_numbers, _as_list)
    delay: Mapping[int, float] | None = setting(None, _per_segment, _segment_table)
    duplicate: Mapping[int, float] | None = setting(None, _per_segment, _segment_table)
    fin_timeout: float | None = setting(None, _seconds_or_none, _float_or_none)
    skip_time_wait: bool = setting(False, _flag)
    rfc1337: bool = setting(False, _flag)
    until: float | None = setting(None, _seconds_or_none, _float_or_none)
    rto: float = setting(_DefaultFloat(DEFAULT.initial_rto), _positive_seconds, float)
    syn_retries: int | None = setting(_default_syn_retries(), _count_or_none, _plain_int)
    isn_a: int = setting(ISN_A, _isn)
    isn_b: int = setting(ISN_B, _isn)
    #: The kernel whose defaults the endpoints follow (:data:`tcpbook.profiles.DEFAULT_PROFILE`
    #: unless given). The settings in ``PROFILE_FIELDS`` left at their defaults take the
    #: profile's values; given, they win.
    profile: str = setting(DEFAULT_PROFILE, _profile)

    def __post_init__(self) -> None:
        for name, default, check, _ in _FIELDS or _fields():
            value = getattr(self, name)
            if value is not default:  # a default is valid as it stands (and this runs per run)
                object.__setattr__(self, name, check(name, value))
        kernel = get_profile(self.profile)
        taken = []
        for name, field_default in _PROFILE_DEFAULTS:
            if getattr(self, name) is field_default:  # not given: the profile's value
                object.__setattr__(self, name, getattr(kernel, PROFILE_FIELDS[name]))
                taken.append(name)
        self.__dict__["_from_profile"] = frozenset(taken)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings' names, in the order traces record them."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def build(cls, base: Settings | None = None, /, **changes: Any) -> Settings:
        """``base`` (or the defaults) with ``changes``; an unknown name is a one-line error."""
        if not changes.keys() <= _NAMES:
            unknown = sorted(set(changes) - _NAMES)
            raise TcpbookError(
                f"unknown setting(s) {', '.join(unknown)}; the settings are: "
                + ", ".join(cls.names())
            )
        if base is None:
            if not changes:
                return _defaults()
            key = _built_key(changes)
            if key is not None:
                built = _BUILT.get(key)
                if built is None:  # settings are frozen: the same changes give the same object
                    if len(_BUILT) > 256:
                        _BUILT.clear()
                    built = _BUILT[key] = cls(**changes)
                return built
        if base is not None:
            # values base took from its profile are not given: the (new) profile supplies them
            for name in base.__dict__.get("_from_profile", ()):
                changes.setdefault(name, _FIELD_DEFAULT[name])
        return replace(base, **changes) if base is not None else cls(**changes)

    def changed(self) -> dict[str, Any]:
        """The settings that differ from their defaults (a value the profile supplied, not given
        explicitly, is a default)."""
        out = {}
        from_profile = self.__dict__.get("_from_profile", ())
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in from_profile:
                continue
            if f.default is MISSING or value != f.default:
                out[f.name] = value
        return out

    def for_scenario(self, scenario: Scenario) -> Settings:
        """These settings with the scenario's own delays and duplicates where none are given."""
        if self.delay is not None and self.duplicate is not None:
            return self
        # Settings are frozen, so the answer is kept (one per scenario object) for the next run.
        cache: dict[int, tuple[Scenario, Settings]] = self.__dict__.setdefault("_resolved", {})
        hit = cache.get(id(scenario))
        if hit is not None and hit[0] is scenario:
            return hit[1]
        own = scenario.defaults(self.msl) if scenario.defaults else {}
        resolved = copy(self)  # the scenario's own values are valid: no need to check again
        resolved.__dict__.pop("_recorded", None)
        resolved.__dict__.pop("_recorded_tables", None)
        resolved.__dict__.pop("_resolved", None)
        if self.delay is None:
            object.__setattr__(resolved, "delay", dict(own.get("delay", {})))
        if self.duplicate is None:
            object.__setattr__(resolved, "duplicate", dict(own.get("duplicate", {})))
        cache[id(scenario)] = (scenario, resolved)
        return resolved

    def to_dict(self) -> dict[str, Any]:
        """As a trace records them (its ``params``), in field order."""
        recorded = self.__dict__.get("_recorded")
        if recorded is None:  # settings are frozen: work it out once, hand out copies
            recorded = {
                name: record(getattr(self, name))
                for name, _, _, record in _FIELDS or _fields()
                if record is not None
            }
            object.__setattr__(self, "_recorded", recorded)
            tables = [key for key, value in recorded.items() if type(value) in (dict, list)]
            object.__setattr__(self, "_recorded_tables", tables)
        out = recorded.copy()
        for key in self.__dict__["_recorded_tables"]:
            out[key] = recorded[key].copy()  # a trace may change its own params, never these
        return out


_NAMES = frozenset(Settings.names())

#: The settings a profile supplies when they are not given, and the profile field of each.
PROFILE_FIELDS: dict[str, str] = {
    "msl": "msl",
    "rto": "initial_rto",
    "syn_retries": "syn_retries",
    "fin_timeout": "fin_timeout",
    "rfc1337": "rfc1337",
}
_FIELD_DEFAULT: dict[str, Any] = {f.name: f.default for f in fields(Settings)}
_PROFILE_DEFAULTS = tuple((name, _FIELD_DEFAULT[name]) for name in PROFILE_FIELDS)
_DEFAULTS: list[Settings] = []


def _defaults() -> Settings:
    """The default settings, made once (they are frozen)."""
    if not _DEFAULTS:
        _DEFAULTS.append(Settings())
    return _DEFAULTS[0]


_BUILT: dict[tuple[tuple[str, str], ...], Settings] = {}
_PLAIN = (type(None), bool, int, float, str)


def _built_key(changes: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """A key for settings built from ``changes`` alone, or None when they are not plain values.

    ``repr`` of a plain value tells apart what ``==`` does not and a check keeps apart
    (``True`` and ``1``, ``0.0`` and ``-0.0``); anything else (a mapping, a subclass) is not kept.
    """
    key = []
    for name, value in changes.items():
        kind = type(value)
        if kind is tuple:
            if not all(type(v) in _PLAIN for v in value):
                return None
        elif kind not in _PLAIN:
            return None
        key.append((name, repr(value)))
    key.sort()
    return tuple(key)


#: (name, default, check, record) for every field of Settings, in order: read once.
_Field = tuple[str, Any, Callable[[str, Any], Any], Callable[[Any], Any] | None]
_FIELDS: list[_Field] = []


def _fields() -> list[_Field]:
    _FIELDS[:] = [
        (f.name, f.default, f.metadata["check"], f.metadata["record"]) for f in fields(Settings)
    ]
    return _FIELDS


def endpoint_config(settings: Settings, **overrides: Any) -> Config:
    """The endpoint knobs a run's settings imply: its profile's behaviours (delayed ACK,
    tail-loss probe, backoff, ...: :func:`tcpbook.endpoint.config_for`) with the settings'
    values. ``overrides`` are a scenario's per-host knobs or a client's own (``auto_read``).
    """
    return config_for(
        get_profile(settings.profile),
        rto=settings.rto,
        syn_retries=settings.syn_retries,
        msl=settings.msl,
        fin_timeout=settings.fin_timeout,
        rfc1337=settings.rfc1337,
        skip_time_wait=settings.skip_time_wait,
        **overrides,
    )


__all__ = [
    "DEFAULT_MSL",
    "ISN_A",
    "ISN_B",
    "LATENCY",
    "SettingError",
    "Settings",
    "endpoint_config",
    "seconds",
    "segment_number",
    "segment_numbers",
]
