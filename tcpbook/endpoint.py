"""One TCP endpoint, sans-IO: user calls and segments in, segments and timer requests out.

There is no clock and no socket here. Each call appends what the endpoint wants done to
``self.out`` (segments to send, timers to start or cancel, state changes, errors the application
sees); the simulator (or a notebook, or the packetdrill runner) drains it. Every state change
goes through :meth:`Endpoint._move`, which takes the next state from the transition table
(:func:`tcpbook.states.next_state`): a move that is not a row raises ``ProtocolError``.

Event processing follows RFC 9293 section 3.10; where the RFC leaves a choice the Linux kernel's
behaviour is used and the docstring says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

from mypy_extensions import mypyc_attr

import tcpbook.states as S  # State's members, read without the Enum metaclass's __getattr__

from .errors import IllegalCall
from .profiles import DEFAULT_PROFILE, PROFILES, Profile
from .states import SYNCHRONIZED, State, next_state

#: The default profile's values, for code that needs one number (the Monte Carlo models, the
#: command line's help); :class:`Config` takes all of its defaults from the same profile.
DEFAULT: Profile = PROFILES[DEFAULT_PROFILE]
INITIAL_RTO = DEFAULT.initial_rto  # RFC 6298 section 2.1: 1 s in every profile
MAX_RTO = DEFAULT.rto_max  # Linux TCP_RTO_MAX; RFC 6298 section 2.5 allows at least 60 s
ORPHAN_RETRIES: int = DEFAULT.orphan_retries if DEFAULT.orphan_retries is not None else 8
WINDOW = 65535  # fixed receive window; flow control is outside the book's scope

SEQ_MOD = 1 << 32

# Flag order used everywhere (and on the wire in tcpdump's notation S, F, R, P, .).
FLAG_ORDER = ("SYN", "FIN", "RST", "PSH", "ACK")

#: Every timer an endpoint can ask for. A host runs them all the same way (start, restart,
#: cancel, fire); only the endpoint knows what each one means.
TimerName = Literal["retransmit", "tlp", "delayed_ack", "time_wait", "fin_wait_2"]


# Segments and outputs are small value classes that write their own ``__init__``
# (``init=False``): the endpoint makes several per segment, and the compiled core
# (tcpbook.native) builds a class natively only from a written one. ``dataclass`` gives each
# its equality and repr, so tests and readers compare them as values.


@dataclass(slots=True, init=False)
class Segment:
    """What travels between endpoints: flags, numbers and a payload length (no payload bytes)."""

    flags: tuple[str, ...]
    seq: int
    ack: int | None
    len: int
    retransmission: bool

    def __init__(
        self,
        flags: tuple[str, ...],
        seq: int,
        ack: int | None,
        len: int = 0,
        retransmission: bool = False,
    ) -> None:
        self.flags = flags
        self.seq = seq
        self.ack = ack
        self.len = len
        self.retransmission = retransmission

    @property
    def syn(self) -> bool:
        return "SYN" in self.flags

    @property
    def fin(self) -> bool:
        return "FIN" in self.flags

    @property
    def rst(self) -> bool:
        return "RST" in self.flags

    @property
    def has_ack(self) -> bool:
        return "ACK" in self.flags

    @property
    def seg_len(self) -> int:
        """SEG.LEN of RFC 9293: payload plus one for SYN and one for FIN."""
        return self.len + ("SYN" in self.flags) + ("FIN" in self.flags)


@dataclass(slots=True, init=False)
class Send:
    segment: Segment

    def __init__(self, segment: Segment) -> None:
        self.segment = segment


@dataclass(slots=True, init=False)
class StartTimer:
    timer: TimerName
    delay: float

    def __init__(self, timer: TimerName, delay: float) -> None:
        self.timer = timer
        self.delay = delay


@dataclass(slots=True, init=False)
class CancelTimer:
    timer: TimerName

    def __init__(self, timer: TimerName) -> None:
        self.timer = timer


@dataclass(slots=True, init=False)
class Change:
    src: State
    dst: State
    cause: str

    def __init__(self, src: State, dst: State, cause: str) -> None:
        self.src = src
        self.dst = dst
        self.cause = cause


@dataclass(slots=True, init=False)
class AppError:
    error: str

    def __init__(self, error: str) -> None:
        self.error = error


@dataclass(slots=True, init=False)
class Received:
    """Payload or end-of-file handed to the application (``length`` 0 means EOF)."""

    length: int

    def __init__(self, length: int) -> None:
        self.length = length


@dataclass(slots=True, init=False)
class Handoff:
    """The connection is gone and ``segment`` belongs to whoever owns the port now (a listener):
    a new SYN that ended TIME_WAIT. The host delivers it again."""

    segment: Segment

    def __init__(self, segment: Segment) -> None:
        self.segment = segment


Output = Send | StartTimer | CancelTimer | Change | AppError | Received | Handoff

# State groups the per-segment path tests, as sets: one hash probe, no tuple built per test.
_SYNCHRONIZED = frozenset(SYNCHRONIZED)
_CLOSING_OR_LAST_ACK = frozenset((S.CLOSING, S.LAST_ACK))
_FIN_ACKED_STATES = frozenset((S.CLOSING, S.LAST_ACK, S.TIME_WAIT))  # the fifth step ends here
_RECEIVING = frozenset((S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2))  # still taking data and FIN


def seq_lt(a: int, b: int) -> bool:
    """a < b in 32-bit sequence space (RFC 9293 section 3.4)."""
    return 0 < (b - a) % SEQ_MOD < SEQ_MOD // 2


def seq_le(a: int, b: int) -> bool:
    return a == b or seq_lt(a, b)


def reset_for(seg: Segment) -> Segment | None:
    """The RST that answers ``seg`` when no connection wants it (RFC 9293 section 3.10.7.1).

    ACK off: ``<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>``; ACK on: ``<SEQ=SEG.ACK><CTL=RST>``.
    A RST is never answered.
    """
    if seg.rst:
        return None
    if seg.has_ack:
        return Segment(("RST",), seg.ack or 0, None)
    return Segment(("RST", "ACK"), 0, (seg.seq + seg.seg_len) % SEQ_MOD)


def _bare_ack(seg: Segment) -> bool:
    """A segment with nothing in it but an ACK.

    RFC 9293 answers an unacceptable segment with an ACK; answered with an ACK in turn, two
    desynchronized endpoints would trade ACKs for ever (an "ACK storm"). RFC 5961 asks for
    throttling and the kernels rate-limit these replies; so does the model
    (:meth:`Endpoint._may_answer`).
    """
    return seg.flags == ("ACK",) and seg.len == 0


@dataclass
class Config:
    """Per-endpoint knobs. :func:`config_for` fills them from a kernel profile
    (:mod:`tcpbook.profiles`, where each value's source is cited); ``Config()`` alone is the
    default profile's (``linux``), so an endpoint built without a configuration behaves as
    every run does by default.
    """

    rto: float = DEFAULT.initial_rto
    max_rto: float = DEFAULT.rto_max
    syn_retries: int | None = DEFAULT.syn_retries
    synack_retries: int = DEFAULT.synack_retries
    retries2: int | None = DEFAULT.retries2
    orphan_retries: int | None = DEFAULT.orphan_retries
    msl: float = DEFAULT.msl
    fin_timeout: float | None = DEFAULT.fin_timeout
    rfc1337: bool = DEFAULT.rfc1337
    skip_time_wait: bool = False
    auto_read: bool = True
    close_on_eof: bool = False
    # -- kernel behaviours (see tcpbook.profiles.Profile for what each one means) --
    rto_min: float | None = DEFAULT.rto_min  # None: no RTT estimation, the RTO stays ``rto``
    rttvar_floor: float = DEFAULT.rttvar_floor
    rto_slop: float = DEFAULT.rto_slop
    syn_linear: int = DEFAULT.syn_linear
    synack_linear: int = DEFAULT.synack_linear
    syn_timeout: float | None = DEFAULT.syn_timeout
    syn_bad_ack_retry: float | None = DEFAULT.syn_bad_ack_retry
    linux_give_up: bool = DEFAULT.linux_give_up
    r2: float | None = DEFAULT.r2
    rst_on_give_up: bool = DEFAULT.rst_on_give_up
    delayed_ack: float | None = DEFAULT.delayed_ack
    quick_acks: int = DEFAULT.quick_acks
    delay_fin_ack: bool = DEFAULT.delay_fin_ack
    tail_loss_probe: bool = DEFAULT.tail_loss_probe
    oow_ack_interval: float = DEFAULT.oow_ack_interval
    time_wait_accepts_syn: bool = DEFAULT.time_wait_accepts_syn
    time_wait_syn_needs_listener: bool = DEFAULT.time_wait_syn_needs_listener
    time_wait_restart_on_any: bool = DEFAULT.time_wait_restart_on_any
    time_wait_rst_challenge: bool = DEFAULT.time_wait_rst_challenge
    old_segment_acks: bool = DEFAULT.old_segment_acks
    old_fin_answered_in_time_wait: bool = DEFAULT.old_fin_answered_in_time_wait
    drop_synfin: bool = DEFAULT.drop_synfin
    reset_errors: tuple[tuple[str, str], ...] = DEFAULT.reset_errors
    orphan_fin_gap_resets: bool = DEFAULT.orphan_fin_gap_resets
    profile: str = DEFAULT.name


#: Config fields whose profile field has another name; the rest share their names.
_PROFILE_NAME = {"rto": "initial_rto", "max_rto": "rto_max", "profile": "name"}
_CONFIG_NAMES = tuple(f.name for f in fields(Config))
_PROFILE_NAMES = frozenset(f.name for f in fields(Profile))


def config_for(profile: Profile, **overrides: Any) -> Config:
    """The endpoint configuration a kernel profile gives; ``overrides`` (explicit options,
    e.g. ``msl=5``) win over the profile's values. ``None`` overrides are ignored."""
    # every Config field a profile has, by the same name but for these three
    values: dict[str, Any] = {
        name: getattr(profile, _PROFILE_NAME.get(name, name))
        for name in _CONFIG_NAMES
        if _PROFILE_NAME.get(name, name) in _PROFILE_NAMES
    }
    for key, value in overrides.items():
        if key not in _CONFIG_NAMES:
            raise TypeError(f"config_for: unknown option {key!r}")
        if value is not None:
            values[key] = value
    if "syn_retries" in overrides and overrides["syn_retries"] is not None:
        values["syn_timeout"] = None  # an explicit count replaces a time limit
    return Config(**values)


def model_timeout(boundary: int, rto_base: float, rto_max: float) -> float:
    """How long ``boundary`` retransmissions take from ``rto_base``, doubling up to ``rto_max``:
    Linux's ``tcp_model_timeout`` (net/ipv4/tcp_timer.c), the give-up test of
    ``retransmits_timed_out``."""
    thresh = 0
    while rto_base * (2 << thresh) <= rto_max:  # ilog2(rto_max / rto_base)
        thresh += 1
    if boundary <= thresh:
        return ((2 << boundary) - 1) * rto_base
    return ((2 << thresh) - 1) * rto_base + (boundary - thresh) * rto_max


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled core
class Endpoint:
    """A transmission control block (RFC 9293 section 3.3.1) and the rules that move it."""

    def __init__(
        self,
        iss: int = 1000,
        config: Config | None = None,
        clock: Callable[[], float] | None = None,
        listener: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config or Config()
        # The host's clock, read only to time round trips (RFC 6298); without one every round
        # trip measures 0 s, which suits a model where the reader delivers segments by hand.
        self.clock = clock
        # Whether a listener on the port would take a new connection's SYN (the host knows);
        # without one, as for a server's TIME_WAIT, there is.
        self.listener = listener
        self.last_oow_ack = -float("inf")  # when a bare ACK was last answered with an ACK
        self.state = S.CLOSED
        self.iss = iss % SEQ_MOD
        self.irs = 0
        self.snd_una = self.iss
        self.snd_nxt = self.iss
        self.rcv_nxt = 0
        self.fin_seq: int | None = None  # sequence number of our FIN once it is queued
        self.passive = False  # reached SYN_RECEIVED from LISTEN
        self.orphaned = False  # the application called close(): nobody reads any more
        self.write_closed = False  # our FIN is queued or sent
        self.unread = 0  # bytes received that the application has not read
        self.pending = 0  # bytes the application wrote before the connection opened
        self.fin_pending = False  # close()/shutdown() called before the SYN was acknowledged
        self.unacked: list[Segment] = []  # retransmission queue, oldest first
        self.held: list[Segment] = []  # arrived beyond a gap, taken when it fills (SHLD-31)
        self.retries = 0
        self.rto = self.config.rto
        self.timers: set[str] = set()
        self.out: list[Output] = []
        self.srtt: float | None = None  # RFC 6298 SRTT and RTTVAR, once a round trip is timed
        self.rttvar = 0.0
        self.timing: tuple[int, float] | None = None  # (end of the timed segment, time sent)
        self.waited = 0.0  # seconds the oldest unacknowledged segment has waited for its ACK
        self.armed = 0.0  # length of the retransmission (or probe) timer now running
        self.armed_since = 0.0  # when the wait it ends began (a re-timed probe keeps it)
        self.probed = False  # a tail-loss probe was sent in this loss episode
        self.quick = self.config.quick_acks  # data segments still ACKed at once

    # -- outputs -----------------------------------------------------------------------------

    def drain(self) -> list[Output]:
        """Hand over (and forget) everything the endpoint asked for since the last drain."""
        out, self.out = self.out, []
        return out

    def _move(self, event: str) -> None:
        """Make the table's move for ``event`` from the current state (RFC 9293 Figure 5)."""
        src = self.state
        dst = next_state(src, event)
        self.state = dst
        self.out.append(Change(src, dst, event))
        if dst is S.CLOSED:
            for name in sorted(self.timers):
                self._cancel(name)  # type: ignore[arg-type]
            self.unacked.clear()
        elif dst is S.TIME_WAIT:
            self._cancel("retransmit")
            self._cancel("tlp")
            self._cancel("fin_wait_2")
            self.unacked.clear()
            if self.config.skip_time_wait:
                self._move("skip TIME_WAIT")
            else:
                self._start("time_wait", 2 * self.config.msl)
        elif dst is S.FIN_WAIT_2 and self.orphaned and self.config.fin_timeout is not None:
            self._start("fin_wait_2", self.config.fin_timeout)

    def _start(self, name: TimerName, delay: float) -> None:
        """Start (or restart) a timer that fires ``delay`` seconds from now."""
        self.timers.add(name)
        self.out.append(StartTimer(name, delay))

    def _cancel(self, name: TimerName) -> None:
        if name in self.timers:
            self.timers.discard(name)
            self.out.append(CancelTimer(name))

    def _emit(self, flags: tuple[str, ...], seq: int, length: int = 0) -> Segment:
        ack = self.rcv_nxt if "ACK" in flags else None
        seg = Segment(flags, seq % SEQ_MOD, ack, length, False)
        self.out.append(Send(seg))
        if ack is not None and "delayed_ack" in self.timers:
            self._cancel("delayed_ack")  # the ACK rides on this segment
        return seg

    def _now(self) -> float:
        return self.clock() if self.clock is not None else 0.0

    def _ack_received_data(self) -> None:
        """ACK data that arrived in order: at once, or after the delayed-ACK timeout.

        RFC 1122 4.2.3.2 allows a delay below 0.5 s with an ACK for at least every second
        segment. Linux ACKs at once in quick-ACK mode (the first ``quick_acks`` segments,
        ``tcp_incr_quickack``); FreeBSD delays any lone segment (``DELAY_ACK``).
        """
        if self.config.delayed_ack is None:
            self._send_ack()
        elif self.quick > 0:
            self.quick -= 1
            self._send_ack()
        elif "delayed_ack" in self.timers:
            self._send_ack()  # a second segment is waiting: ACK now
        else:
            self._start("delayed_ack", self.config.delayed_ack)

    def _computed_rto(self) -> float:
        """RFC 6298 section 2: SRTT + max(G, K * RTTVAR), with each kernel's floor and slop."""
        cfg = self.config
        if cfg.rto_min is None or self.srtt is None:  # no round trip timed (RFC 6298 2.1)
            return cfg.rto
        rto = self.srtt + max(4 * self.rttvar, cfg.rttvar_floor) + cfg.rto_slop
        return min(max(rto, cfg.rto_min), cfg.max_rto)

    def _sample_rtt(self, rtt: float) -> None:
        """RFC 6298 sections 2.2 and 2.3 (alpha 1/8, beta 1/4)."""
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt

    def _arm(self, *, again: bool = False) -> None:
        """Start the timer that guards the unacknowledged segments: a tail-loss probe first when
        the profile has one (Linux ``tcp_schedule_loss_probe``: PTO = 2 x SRTT, plus
        ``tcp_rto_min`` with one segment in flight, at most the RTO), else the RTO.

        ``again``: new data went out while the probe waited. Linux times the probe again from
        now (``tcp_write_xmit``), but never later than the RTO would fire, counted from the
        start of the wait (``tcp_rto_delta_us``).
        """
        cfg = self.config
        if cfg.tail_loss_probe and not self.probed and self.state in _SYNCHRONIZED:
            if self.srtt is None:
                pto = self.rto
            else:
                extra = (cfg.rto_min or 0.0) if len(self.unacked) == 1 else 0.002
                pto = min(2 * self.srtt + extra, self.rto)
            now = self._now()
            if again:
                waited = now - self.armed_since
                if self.rto - waited > 0:
                    pto = min(pto, self.rto - waited)
                self.armed = waited + pto  # the whole wait, as the give-up count needs it
            else:
                self.armed_since = now
                self.armed = pto
            self._start("tlp", pto)
            return
        delay = self.rto
        if cfg.syn_timeout is not None and self.state is S.SYN_SENT:
            delay = max(min(delay, cfg.syn_timeout - self.waited), 0.0)
        self.armed = delay
        self._start("retransmit", delay)

    def _send_ack(self) -> None:
        self._emit(("ACK",), self.snd_nxt)

    def _send_reset(self) -> None:
        """RST,ACK at SND.NXT, as Linux sends on abort (RFC 9293 3.10.5)."""
        self._emit(("RST", "ACK"), self.snd_nxt)

    def _transmit(self, flags: tuple[str, ...], length: int = 0) -> None:
        """Send a segment that takes sequence space and keep it until it is acknowledged."""
        seg = self._emit(flags, self.snd_nxt, length)
        self.snd_nxt = (self.snd_nxt + length + ("SYN" in flags) + ("FIN" in flags)) % SEQ_MOD
        self.unacked.append(seg)
        if self.timing is None and self.config.rto_min is not None:
            self.timing = (self.snd_nxt, self._now())  # time this one (Karn: never a resend)
        timers = self.timers
        if "retransmit" not in timers and "tlp" not in timers:
            self._arm()
        elif "tlp" in timers:
            self._arm(again=True)  # the probe is timed again after every new segment (Linux)

    def _error(self, error: str) -> None:
        if not self.orphaned:
            self.out.append(AppError(error))

    # -- user calls (RFC 9293 section 3.10.1 to 3.10.5) -----------------------------------

    def listen(self) -> None:
        """Passive OPEN."""
        if self.state is not S.CLOSED:
            raise IllegalCall(f"listen: connection already exists (state {self.state})")
        self.passive = True
        self._move("passive OPEN")

    def connect(self) -> None:
        """Active OPEN: send SYN."""
        if self.state is not S.CLOSED:
            raise IllegalCall(f"connect: connection already exists (state {self.state})")
        self.passive = False
        self._move("active OPEN")
        self._transmit(("SYN",))

    def send(self, length: int) -> None:
        """SEND ``length`` bytes (one segment; segmentation is outside the book's scope)."""
        if length < 1:
            raise IllegalCall(f"send: length must be a positive number of bytes, got {length}")
        st = self.state
        if st is S.LISTEN:
            self.passive = False
            self._move("SEND")
            self._transmit(("SYN",))
            self.pending += length
        elif st in (S.SYN_SENT, S.SYN_RECEIVED):
            self.pending += length
        elif st in (S.ESTABLISHED, S.CLOSE_WAIT) and not self.write_closed:
            self._transmit(("PSH", "ACK"), length)
        elif st is S.CLOSED:
            raise IllegalCall("send: connection does not exist (state CLOSED)")
        else:
            raise IllegalCall(f"send: connection closing (state {st})")

    def read(self) -> int:
        """The application reads everything received so far; returns the byte count."""
        got, self.unread = self.unread, 0
        return got

    def close(self) -> None:
        """CLOSE: the application is done with the socket (RFC 9293 3.10.4).

        With unread data Linux sends RST instead of FIN (RFC 2525 section 2.17).
        """
        st = self.state
        if st is S.CLOSED:
            raise IllegalCall("close: connection does not exist (state CLOSED)")
        if st in (S.LISTEN, S.SYN_SENT):
            self._move("CLOSE")
            return
        if self.unread and st is not S.TIME_WAIT:
            self.orphaned = True
            self._send_reset()
            self._move("CLOSE with unread data")
            return
        already = self.write_closed
        self.orphaned = True
        if already:
            # After shutdown(): the FIN is already queued; close only orphans the socket.
            if st is S.FIN_WAIT_2 and self.config.fin_timeout is not None:
                self._start("fin_wait_2", self.config.fin_timeout)
            return
        self._shutdown_write()

    def shutdown(self) -> None:
        """shutdown(SHUT_WR): send FIN but keep receiving (half-close)."""
        st = self.state
        if st in (S.CLOSED, S.LISTEN, S.SYN_SENT):
            raise IllegalCall(f"shutdown: socket is not connected (state {st})")
        if self.write_closed:
            return
        self._shutdown_write()

    def _shutdown_write(self) -> None:
        st = self.state
        self.write_closed = True
        if st is S.SYN_RECEIVED and self.pending:
            self.fin_pending = True  # queued behind the data until ESTABLISHED
        elif st in (S.SYN_RECEIVED, S.ESTABLISHED, S.CLOSE_WAIT):
            # RFC 9293 3.10.4 (from SYN_RECEIVED: with nothing queued, send FIN at once): the
            # table says where CLOSE leads (FIN_WAIT_1, or LAST_ACK from CLOSE_WAIT).
            self.fin_seq = self.snd_nxt
            self._move("CLOSE")
            self._transmit(("FIN", "ACK"))
        else:
            self.write_closed = False
            raise IllegalCall(f"close: connection closing (state {st})")

    def abort(self) -> None:
        """ABORT (SO_LINGER with a zero timeout): RST if synchronized, then CLOSED (3.10.5)."""
        st = self.state
        if st is S.CLOSED:
            raise IllegalCall("abort: connection does not exist (state CLOSED)")
        self.orphaned = True
        if st in (S.SYN_RECEIVED, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT):
            self._send_reset()
        self._move("ABORT")

    def vanish(self) -> None:
        """The host crashes or is unplugged: the connection is gone and nothing is sent."""
        if self.state is not S.CLOSED:
            self.orphaned = True
            self._move("host vanishes")

    # -- timers -------------------------------------------------------------------------------

    def timer_fired(self, name: TimerName) -> None:
        """A timer the endpoint started has run out (RFC 9293 section 3.10.8)."""
        if name not in self.timers:
            return
        self.timers.discard(name)
        if name == "time_wait":
            self._move("timeout 2MSL")
        elif name == "fin_wait_2":
            self._move("timeout FIN_WAIT_2")
        elif name == "delayed_ack":
            self._send_ack()
        elif name == "tlp":
            self._probe()
        else:
            self._retransmit()

    def _probe(self) -> None:
        """The tail-loss probe fires: resend the last segment (RFC 8985 section 7.3, Linux
        ``tcp_send_loss_probe``), without backing off, then wait one RTO."""
        self.waited += self.armed
        self.probed = True
        if not self.unacked:
            return
        tail = self.unacked[-1]
        ack = self.rcv_nxt if "ACK" in tail.flags else None
        self.timing = None
        self.out.append(Send(Segment(tail.flags, tail.seq, ack, tail.len, retransmission=True)))
        self.armed = self.rto
        self._start("retransmit", self.rto)

    def _gives_up(self) -> bool:
        """Has the oldest segment been retransmitted enough (RFC 9293 3.8.3 R2)?"""
        st = self.state
        cfg = self.config
        if st is S.SYN_SENT:
            if cfg.syn_timeout is not None and self.waited >= cfg.syn_timeout - 1e-9:
                return True
            return cfg.syn_retries is not None and self.retries >= cfg.syn_retries
        if st is S.SYN_RECEIVED:
            return self.retries >= cfg.synack_retries
        limit = cfg.orphan_retries if self.orphaned else cfg.retries2
        if cfg.linux_give_up and limit is not None:
            # retransmits_timed_out: by time, from the first transmission (tcp_write_timeout)
            bound = model_timeout(limit, cfg.rto_min or cfg.rto, cfg.max_rto)
            return self.retries > 0 and self.waited >= bound - 1e-9
        if cfg.r2 is not None and limit is None:
            return self.waited >= cfg.r2 - 1e-9
        return limit is not None and self.retries >= limit

    def _retransmit(self) -> None:
        """RFC 6298 section 5.4-5.6: resend the oldest segment, double the RTO, give up at last."""
        if not self.unacked:
            return
        st = self.state
        cfg = self.config
        self.waited += self.armed
        if self._gives_up():
            if st is S.SYN_RECEIVED and self.passive:
                # Linux drops the half-open request; the listener goes on listening.
                self._back_to_listen("timeout retransmit")
                return
            # Linux gives up silently (ETIMEDOUT for the application); FreeBSD's tcp_drop sends
            # RST on a synchronized connection.
            if cfg.rst_on_give_up and st in SYNCHRONIZED:
                self._send_reset()
            self._error("ETIMEDOUT")
            if st is S.SYN_RECEIVED:
                self._move("timeout retransmit after active OPEN")
            else:
                self._move("timeout retransmit")
            return
        self.retries += 1
        linear = {S.SYN_SENT: cfg.syn_linear, S.SYN_RECEIVED: cfg.synack_linear}.get(st, 0)
        if self.retries > linear:  # Linux tcp_syn_linear_timeouts, FreeBSD tcp_syn_backoff
            self.rto = min(self.rto * 2, cfg.max_rto)
        self.timing = None  # Karn's algorithm: a resent segment is never timed
        head = self.unacked[0]
        flags = head.flags
        if head.syn and self.state is S.SYN_RECEIVED:
            flags = ("SYN", "ACK")
        ack = self.rcv_nxt if "ACK" in flags else None
        seg = Segment(flags, head.seq, ack, head.len, retransmission=True)
        self.out.append(Send(seg))
        self.probed = True  # after a timeout, no probe until new data is acknowledged
        self._arm()

    # -- segment arrives (RFC 9293 section 3.10.7) ------------------------------------------

    def receive(self, seg: Segment) -> None:
        """Process one incoming segment. The CLOSED case (no TCB) belongs to the host."""
        st = self.state
        if self.config.drop_synfin and seg.syn and seg.fin:
            return  # FreeBSD net.inet.tcp.drop_synfin
        if st is S.CLOSED:
            reply = reset_for(seg)
            if reply is not None:
                self.out.append(Send(reply))
        elif st is S.LISTEN:
            self._in_listen(seg)
        elif st is S.SYN_SENT:
            self._in_syn_sent(seg)
        else:
            self._in_other(seg)

    def _in_listen(self, seg: Segment) -> None:
        """RFC 9293 3.10.7.2."""
        if seg.rst:
            return
        if seg.has_ack:
            self.out.append(Send(Segment(("RST",), seg.ack or 0, None)))
            return
        if seg.syn:
            self.irs = seg.seq
            self.rcv_nxt = (seg.seq + 1) % SEQ_MOD
            self.passive = True
            self._move("rcv SYN")
            self._transmit(("SYN", "ACK"))

    def _in_syn_sent(self, seg: Segment) -> None:
        """RFC 9293 3.10.7.3."""
        ack_ok = False
        if seg.has_ack:
            ack = seg.ack or 0
            if seq_le(ack, self.iss) or seq_lt(self.snd_nxt, ack):
                if not seg.rst:
                    self.out.append(Send(Segment(("RST",), ack, None)))
                quick = self.config.syn_bad_ack_retry
                if quick is not None and self.retries == 0:
                    # Linux: the peer may have dropped our SYN as old; try again soon.
                    self.armed = quick
                    self._start("retransmit", quick)
                return
            ack_ok = seq_lt(self.snd_una, ack) and seq_le(ack, self.snd_nxt)
        if seg.rst:
            if ack_ok:
                self._error("ECONNREFUSED")
                self._move("rcv RST")
            return
        if not seg.syn:
            return
        self.irs = seg.seq
        self.rcv_nxt = (seg.seq + 1) % SEQ_MOD
        if ack_ok:
            self._ack_advance(seg.ack or 0)
            self._move("rcv SYN,ACK")
            self._send_ack()
            self._established()
        else:
            # Simultaneous open: answer SYN,ACK carrying our ISS again (3.10.7.3, Figure 8).
            self._move("rcv SYN")
            self._emit(("SYN", "ACK"), self.iss)

    def _acceptable(self, seg: Segment) -> bool:
        """The sequence-number test of 3.10.7.4 (first check), with a fixed window."""
        flags = seg.flags  # SEG.LEN, as Segment.seg_len works it out (without a property call)
        length = seg.len + ("SYN" in flags) + ("FIN" in flags)
        rcv = self.rcv_nxt
        if length == 0:
            return seq_le(rcv, seg.seq) and seq_lt(seg.seq, rcv + WINDOW)
        last = (seg.seq + length - 1) % SEQ_MOD
        return (seq_le(rcv, seg.seq) and seq_lt(seg.seq, rcv + WINDOW)) or (
            seq_le(rcv, last) and seq_lt(last, rcv + WINDOW)
        )

    def _in_other(self, seg: Segment) -> None:
        """RFC 9293 3.10.7.4: SYN_RECEIVED and every synchronized state, step by step.

        Each step returns True when it has finished with the segment. The third step (security)
        and the sixth (URG) have nothing to model.
        """
        if self.state is S.SYN_RECEIVED and self._syn_received_resyn(seg):
            return
        if self._first_sequence(seg) or self._second_rst(seg) or self._fourth_syn(seg):
            return
        if self._fifth_ack(seg):
            return
        need_ack = self._seventh_text(seg)
        if need_ack is None:
            return
        if need_ack and self.held:
            taken, fin = self._take_held()
            if taken:
                # The gap is filled: what was held beyond it counts now, and the ACK goes at
                # once (RFC 5681 4.2; Linux tcp_data_queue -> tcp_ofo_queue, ICSK_ACK_NOW).
                if fin:
                    seg = Segment(("FIN",), self.rcv_nxt, None)
                self._eighth_fin(seg, True, at_once=True)
                return
        self._eighth_fin(seg, need_ack)

    def _syn_received_resyn(self, seg: Segment) -> bool:
        """The peer's SYN again while in SYN_RECEIVED (before the sequence check: it is old)."""
        if not seg.syn or seg.seq != self.irs or seg.rst:
            return False
        if seg.has_ack and self._ack_in_range(seg.ack):
            # Simultaneous open: the peer's SYN,ACK completes it (RFC 9293 Figure 8).
            self._ack_advance(seg.ack or 0)
            self._move("rcv ACK of SYN")
            self._established()
        elif not seg.has_ack and self.passive:
            # A retransmitted SYN: our SYN,ACK was lost; Linux answers with it again.
            self.out.append(Send(Segment(("SYN", "ACK"), self.iss, self.rcv_nxt, 0, True)))
        return True

    def _may_answer(self, seg: Segment) -> bool:
        """Whether an unacceptable segment gets its ACK now. Anything with more than an ACK in
        it always does; a bare ACK at most once per ``oow_ack_interval`` (RFC 5961 section 7;
        Linux tcp_oow_rate_limited), so two confused endpoints cannot trade ACKs for ever."""
        if not _bare_ack(seg):
            return True
        now = self._now()
        if now - self.last_oow_ack < self.config.oow_ack_interval:
            return False
        self.last_oow_ack = now
        return True

    def _first_sequence(self, seg: Segment) -> bool:
        """First: is the segment acceptable? An unacceptable one gets an ACK (not a RST)."""
        st = self.state
        if (
            st is S.TIME_WAIT
            and self.config.time_wait_accepts_syn
            and seg.flags == ("SYN",)
            and seq_lt(self.rcv_nxt, seg.seq)
        ):
            if self.config.time_wait_syn_needs_listener and not (
                self.listener is None or self.listener()
            ):
                # Linux: nobody listens (a client's TIME_WAIT), so the SYN gets TIME_WAIT's
                # ACK (tcp_v4_rcv: TCP_TW_SYN, no listener -> TCP_TW_ACK); 2MSL runs on.
                self._send_ack()
                return True
            # A new incarnation whose numbers cannot be confused with the old one's: TIME_WAIT
            # ends and the SYN goes to the listener (RFC 6191; tcp_timewait_state_process).
            self._move("rcv SYN above RCV.NXT")
            self.out.append(Handoff(seg))
            return True
        if (
            st is S.TIME_WAIT
            and seg.fin
            and not seg.rst
            and (seg.seq + seg.seg_len) % SEQ_MOD == self.rcv_nxt
        ):
            # The peer's FIN again: our last ACK was lost. ACK it and restart 2MSL: the table's
            # one self-loop, TIME_WAIT --rcv FIN--> TIME_WAIT (3.10.7.4 eighth step).
            self._send_ack()
            self._move("rcv FIN")
            return True
        if self._acceptable(seg):
            return False
        if self._old_segment_ends_it(seg):
            return True
        if not seg.rst and self._may_answer(seg):
            self._send_ack()
            if st is S.TIME_WAIT and self.config.time_wait_restart_on_any:
                # Linux (tcp_timewait_state_process) restarts 2MSL whenever TIME_WAIT
                # answers a segment, so TIME_WAIT always ends 2MSL after its last ACK.
                self._start("time_wait", 2 * self.config.msl)
        return True

    def _old_segment_ends_it(self, seg: Segment) -> bool:
        """Linux and FreeBSD read the ACK field of a retransmission that ends at RCV.NXT (the
        peer's FIN sent again): when it acknowledges our FIN in CLOSING or LAST_ACK, that move
        happens and the old FIN is consumed (``old_segment_acks``), unanswered but for
        FreeBSD's TIME_WAIT (``old_fin_answered_in_time_wait``)."""
        if not (
            self.config.old_segment_acks
            and self.state in _CLOSING_OR_LAST_ACK
            and "ACK" in seg.flags
            and "RST" not in seg.flags
            and "SYN" not in seg.flags
            and (seg.seq + seg.seg_len) % SEQ_MOD == self.rcv_nxt
            and self._ack_in_range(seg.ack)
        ):
            return False
        if not self._ack_advance(seg.ack or 0):
            return False  # it acknowledged data, not yet our FIN: the old FIN is answered
        self._move("rcv ACK of FIN")
        if self.state is S.TIME_WAIT and self.config.old_fin_answered_in_time_wait:
            self._send_ack()
        return True

    def _second_rst(self, seg: Segment) -> bool:
        """Second: RST. RFC 5961 section 3 (adopted by RFC 9293): only an exact match resets;
        any other in-window RST gets a challenge ACK (not from Linux's or FreeBSD's TIME_WAIT,
        which drop it: ``time_wait_rst_challenge``)."""
        if "RST" not in seg.flags:
            return False
        if seg.seq != self.rcv_nxt:
            if self.state is not S.TIME_WAIT or self.config.time_wait_rst_challenge:
                self._send_ack()
        else:
            self._on_reset()
        return True

    def _fourth_syn(self, seg: Segment) -> bool:
        """Fourth: a SYN in a synchronized state gets a challenge ACK (RFC 5961 section 4)."""
        if "SYN" not in seg.flags:
            return False
        self._send_ack()
        return True

    def _fifth_ack(self, seg: Segment) -> bool:
        """Fifth: the ACK field. Completes the handshake, moves SND.UNA, ends CLOSING/LAST_ACK."""
        if "ACK" not in seg.flags:
            return True
        st = self.state
        ack = seg.ack or 0
        fin_acked_now = False
        if st is S.SYN_RECEIVED:
            if not self._ack_in_range(ack):
                self.out.append(Send(Segment(("RST",), ack, None)))
                return True
            self._ack_advance(ack)
            self._move("rcv ACK of SYN")
            self._established()
            st = self.state
        elif seq_lt(self.snd_nxt, ack):
            if st is not S.TIME_WAIT and self._may_answer(seg):
                self._send_ack()  # it acknowledges something not yet sent (3.10.7.4 fifth)
            return True
        elif seq_lt(self.snd_una, ack):
            fin_acked_now = self._ack_advance(ack)
        if fin_acked_now and st in _CLOSING_OR_LAST_ACK:
            self._move("rcv ACK of FIN")
            return True
        return st in _FIN_ACKED_STATES

    def _seventh_text(self, seg: Segment) -> bool | None:
        """Seventh: segment text. Returns whether an ACK is owed, or None when done."""
        st = self.state
        need_ack = False
        if seg.len:
            if seg.seq != self.rcv_nxt:
                # Partly old: keep what is new. Beyond a gap: hold it until the gap fills
                # (RFC 9293 3.10.7.4, SHLD-31; Linux's out-of-order queue) and send a
                # duplicate ACK of what is still missing.
                overlap = (self.rcv_nxt - seg.seq) % SEQ_MOD
                if seq_lt(self.rcv_nxt, seg.seq):
                    self._hold(seg)
                    return None
                if overlap >= seg.len:
                    self._send_ack()
                    return None
                new = seg.len - overlap
            else:
                new = seg.len
            if st in (S.FIN_WAIT_1, S.FIN_WAIT_2) and self.orphaned:
                self._reset_after_close(seg)
                return None
            if st in _RECEIVING:
                self._deliver(new)
                need_ack = True
        return need_ack

    def _deliver(self, length: int) -> None:
        """``length`` new bytes reach the application: RCV.NXT moves past them."""
        self.rcv_nxt = (self.rcv_nxt + length) % SEQ_MOD
        self.out.append(Received(length))
        if not self.config.auto_read:
            self.unread += length

    def _reset_after_close(self, seg: Segment) -> None:
        """Linux: data for a socket its application has closed is answered with the RST of a
        segment nobody wants (RFC 9293 3.10.7.1 form: <SEQ=SEG.ACK><CTL=RST>)."""
        reply = reset_for(seg)
        if reply is not None:
            self.out.append(Send(reply))
        self._error("ECONNRESET")
        self._move("rcv data after CLOSE")

    def _eighth_fin(self, seg: Segment, need_ack: bool, *, at_once: bool = False) -> None:
        """Eighth: FIN. Only a FIN that comes in order is processed; one beyond a gap is held
        until the data before it arrives. ``at_once``: a filled gap, ACK without delay."""
        st = self.state
        fin_in_order = "FIN" in seg.flags
        gap = False
        if fin_in_order and (seg.seq + seg.len) % SEQ_MOD != self.rcv_nxt:
            fin_in_order = False  # a gap before the FIN
            need_ack = gap = True
            if not seg.len and seq_lt(self.rcv_nxt, seg.seq):
                self._hold(seg)
                return
        if fin_in_order and st in _RECEIVING:
            self.rcv_nxt = (self.rcv_nxt + 1) % SEQ_MOD
            if st is S.ESTABLISHED:
                self._move("rcv FIN")
                self.out.append(Received(0))
                if self.config.close_on_eof and not self.unread:
                    # The application closes as soon as it reads EOF: the FIN carries the ACK.
                    self.close()
                    return
                if (
                    not at_once
                    and self.config.delay_fin_ack
                    and self.config.delayed_ack is not None
                    and (self.rcv_nxt - self.irs) % SEQ_MOD > 2  # data came before the FIN
                ):
                    # Linux tcp_fin: pingpong mode, so the ACK waits for the application's
                    # reply (often its own FIN) or the delayed-ACK timeout. The delayed-ACK
                    # engine starts with the first data received (tcp_event_data_recv sets
                    # icsk_ack.ato = TCP_ATO_MIN); before any data ato is 0 and
                    # tcp_send_delayed_ack fires at once: a FIN right after the handshake is
                    # ACKed at once (seen on a 6.18 kernel with packetdrill).
                    if "delayed_ack" not in self.timers:
                        self._start("delayed_ack", self.config.delayed_ack)
                    return
            elif st is S.FIN_WAIT_1:
                self._move("rcv FIN,ACK of FIN" if self._fin_acked() else "rcv FIN")
            else:
                self._move("rcv FIN")
            self._send_ack()
            return
        if st is S.FIN_WAIT_1 and self._fin_acked():
            self._move("rcv ACK of FIN")
        if need_ack and (gap or at_once):
            self._send_ack()
        elif need_ack:
            self._ack_received_data()

    def _hold(self, seg: Segment) -> None:
        """Keep a segment that arrived beyond a gap and ACK what is still missing (a duplicate
        ACK). An application that has closed its socket takes no more data: data beyond
        RCV.NXT is answered with RST (RFC 1122 4.2.2.13), and under Linux a FIN beyond a gap
        too (tcp_rcv_state_process: ``orphan_fin_gap_resets``)."""
        if (
            self.state in (S.FIN_WAIT_1, S.FIN_WAIT_2)
            and self.orphaned
            and (seg.len or self.config.orphan_fin_gap_resets)
        ):
            self._reset_after_close(seg)
            return
        if self.state in _RECEIVING and all(
            (h.seq, h.len, h.flags) != (seg.seq, seg.len, seg.flags) for h in self.held
        ):
            self.held.append(seg)
        self._send_ack()

    def _take_held(self) -> tuple[bool, bool]:
        """Take the held segments the data now reaches: (whether any was, whether a held FIN
        is now next in sequence)."""
        taken = False
        progress = True
        while progress and self.held:
            progress = False
            for h in list(self.held):
                if seq_lt(self.rcv_nxt, h.seq):
                    continue  # still beyond a gap
                self.held.remove(h)
                end = (h.seq + h.len) % SEQ_MOD
                if seq_lt(self.rcv_nxt, end):
                    self._deliver((end - self.rcv_nxt) % SEQ_MOD)
                    taken = progress = True
                if "FIN" in h.flags and end == self.rcv_nxt:
                    self.held.clear()  # nothing follows a FIN
                    return True, True
        return taken, False

    def _fin_acked(self) -> bool:
        return self.fin_seq is not None and seq_lt(self.fin_seq, self.snd_una)

    def _ack_in_range(self, ack: int | None) -> bool:
        return ack is not None and seq_lt(self.snd_una, ack) and seq_le(ack, self.snd_nxt)

    def _ack_advance(self, ack: int) -> bool:
        """SND.UNA moves to ``ack``; drop acknowledged segments; True if our FIN is now acked."""
        self.snd_una = ack
        keep = []  # a loop, not a comprehension: Python 3.11 makes a function object per run
        for s in self.unacked:
            if seq_lt(ack, (s.seq + s.len + ("SYN" in s.flags) + ("FIN" in s.flags)) % SEQ_MOD):
                keep.append(s)
        self.unacked = keep
        if self.timing is not None and seq_le(self.timing[0], ack):
            self._sample_rtt(self._now() - self.timing[1])
            self.timing = None
        self.retries = 0
        self.waited = 0.0
        self.probed = False
        self.rto = self._computed_rto()
        timers = self.timers
        if "tlp" in timers:
            self._cancel("tlp")
        if self.unacked:
            self._arm()
        elif "retransmit" in timers:
            self._cancel("retransmit")
        return self.fin_seq is not None and seq_lt(self.fin_seq, ack)

    def _established(self) -> None:
        """Send what the application queued before the handshake finished."""
        if self.pending:
            length, self.pending = self.pending, 0
            self._transmit(("PSH", "ACK"), length)
        if self.fin_pending:
            self.fin_pending = False
            self._shutdown_write()

    def _back_to_listen(self, cause: str) -> None:
        """A passive open that did not complete: forget the peer, keep listening (3.10.7.4)."""
        self._move(cause)
        self.unacked.clear()
        self._cancel("retransmit")
        self.snd_una = self.snd_nxt = self.iss
        self.retries = 0
        self.waited = 0.0
        self.rto = self.config.rto

    def _on_reset(self) -> None:
        """An acceptable RST arrived (3.10.7.4 second check)."""
        st = self.state
        if st is S.SYN_RECEIVED:
            if self.passive:
                self._back_to_listen("rcv RST")
            else:
                self._error("ECONNREFUSED")
                self._move("rcv RST after active OPEN")
            return
        if st is S.TIME_WAIT and self.config.rfc1337:
            return  # RFC 1337: ignore RST in TIME_WAIT
        for state, error in self.config.reset_errors:  # what the application sees, per kernel
            if state == st._value_:
                self._error(error)
        self._move("rcv RST")


__all__ = [
    "SYNCHRONIZED",
    "AppError",
    "CancelTimer",
    "Change",
    "Config",
    "Endpoint",
    "Handoff",
    "Output",
    "Received",
    "Segment",
    "Send",
    "StartTimer",
    "config_for",
    "model_timeout",
    "reset_for",
]
