"""Kernel profiles: which timers and corner-case rules an endpoint follows.

RFC 9293 fixes the state machine but leaves the clocks and several corner cases to the
implementation. A :class:`Profile` names one set of choices, each field citing where its value
comes from. Three are defined: ``linux`` (Linux 6.x defaults, checked against captures of a
Linux 6.18 kernel), ``freebsd`` (FreeBSD 14 defaults, from its sources) and ``rfc9293`` (the
RFCs alone: RFC 9293 with RFC 6298 and RFC 1122). :func:`get` looks one up by name.

The endpoint reads a profile through its ``Config`` (:func:`tcpbook.endpoint.config_for`);
options given explicitly (an MSL, an initial RTO, ...) override the profile's values there.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import TcpbookError


@dataclass(frozen=True)
class Profile:
    """One kernel's defaults. Times are in seconds; ``None`` means "no such timer".

    Retransmission: the first timeout is ``initial_rto``; after an RTT sample the timeout is
    ``max(SRTT + max(4 * RTTVAR, rttvar_floor) + rto_slop, rto_min)`` (RFC 6298 section 2 with
    each kernel's floor), doubled on each timeout up to ``rto_max``.
    """

    name: str
    description: str
    #: Maximum segment lifetime; TIME_WAIT lasts 2 x ``msl``.
    msl: float
    #: RTO before any RTT sample (RFC 6298 section 2.1: 1 s).
    initial_rto: float
    #: Lowest RTO once the RTT is measured.
    rto_min: float
    #: Floor of the variance term 4 x RTTVAR (Linux: ``tcp_rto_min``, see ``__tcp_set_rto``).
    rttvar_floor: float
    #: Added to every computed RTO (FreeBSD ``tcp_rexmit_slop``, ``TCPT_RANGESET``).
    rto_slop: float
    #: Highest RTO after backing off.
    rto_max: float
    #: SYN retransmissions that wait ``initial_rto`` again instead of doubling it.
    syn_linear: int
    #: The same for SYN,ACK retransmissions of a passive open.
    synack_linear: int
    #: SYN retransmissions before connect() fails with ETIMEDOUT (``None``: by time only).
    syn_retries: int | None
    #: connect() fails this long after the first SYN, whatever the count (``None``: no limit).
    syn_timeout: float | None
    #: SYN,ACK retransmissions before a half-open passive connection is forgotten.
    synack_retries: int
    #: Retransmissions of data or FIN before the connection is dropped (``None``: by time).
    retries2: int | None
    #: The same for a socket its application has closed (orphaned).
    orphan_retries: int | None
    #: Give up by time, as Linux's ``retransmits_timed_out`` does: the limit is the time the
    #: retry count would take from ``rto_min``, doubling (``tcp_model_timeout``).
    linux_give_up: bool
    #: After an unacceptable ACK in SYN_SENT, resend the SYN this soon, if it was not resent
    #: yet (``None``: the retransmission timer runs on).
    syn_bad_ack_retry: float | None
    #: Give up (data or FIN) once this long has passed since the first transmission (RFC 9293
    #: section 3.8.3 R2); ``None``: by count.
    r2: float | None
    #: Send RST when giving up on a synchronized connection.
    rst_on_give_up: bool
    #: Delayed-ACK timeout (``None``: every ACK goes out at once).
    delayed_ack: float | None
    #: Data segments ACKed at once at the start of a connection (quick-ACK mode).
    quick_acks: int
    #: Delay the ACK of a FIN received in ESTABLISHED (hoping the application closes soon).
    delay_fin_ack: bool
    #: Tail-loss probe (RFC 8985 section 7) before the first retransmission timeout.
    tail_loss_probe: bool
    #: Orphaned FIN_WAIT_2 ends after this long (``None``: waits for the peer's FIN forever).
    fin_timeout: float | None
    #: TIME_WAIT restarts 2MSL whenever it answers a segment, not only a retransmitted FIN.
    time_wait_restart_on_any: bool
    #: A RST in TIME_WAIT is ignored (RFC 1337) instead of closing it.
    rfc1337: bool
    #: A SYN whose sequence number is above the old RCV.NXT ends TIME_WAIT and opens a new
    #: connection (RFC 1122 4.2.2.13, RFC 6191); otherwise it gets a challenge ACK (RFC 5961).
    time_wait_accepts_syn: bool
    #: ... only when a listener on the port will take it; otherwise TIME_WAIT answers the SYN
    #: with an ACK and stays (a connected client's TIME_WAIT).
    time_wait_syn_needs_listener: bool
    #: Answer an in-window RST that is not exact, and a SYN in a synchronized state, with a
    #: challenge ACK (RFC 5961 sections 3 and 4, adopted by RFC 9293).
    challenge_acks: bool
    #: TIME_WAIT, too, answers an in-window RST that is not exact with a challenge ACK (RFC
    #: 9293 3.10.7.4); otherwise it drops it silently.
    time_wait_rst_challenge: bool
    #: A retransmission that ends exactly at RCV.NXT (the peer's FIN again) still has its ACK
    #: field read before it is answered, so it can end CLOSING or LAST_ACK; RFC 9293 finds the
    #: whole segment unacceptable.
    old_segment_acks: bool
    #: ... and when that ACK ends CLOSING, TIME_WAIT still answers the old FIN with an ACK.
    old_fin_answered_in_time_wait: bool
    #: Least time between two ACKs that answer unacceptable bare ACKs (RFC 5961 section 7 ACK
    #: throttling; two confused endpoints would otherwise trade ACKs for ever).
    oow_ack_interval: float
    #: After close(), a FIN beyond a gap (no data in it) is answered with RST like data would be.
    orphan_fin_gap_resets: bool
    #: The error an application still holding its socket sees when an acceptable RST ends the
    #: connection, by state (a state not listed: none).
    reset_errors: tuple[tuple[str, str], ...]
    #: Drop segments carrying both SYN and FIN (FreeBSD ``net.inet.tcp.drop_synfin``).
    drop_synfin: bool
    #: Closed ports stay silent (FreeBSD ``net.inet.tcp.blackhole``: 0 answers RST).
    blackhole: int


LINUX = Profile(
    name="linux",
    description="Linux 6.x defaults (net/ipv4/tcp_*.c, include/net/tcp.h; captures of 6.18)",
    # TCP_TIMEWAIT_LEN is 60 s (include/net/tcp.h); Linux has no MSL knob: 2 x 30 s.
    msl=30.0,
    # TCP_TIMEOUT_INIT = 1 s; TCP_RTO_MIN = 200 ms (sysctl tcp_rto_min_us); TCP_RTO_MAX = 120 s.
    initial_rto=1.0,
    rto_min=0.2,
    # __tcp_set_rto: RTO = SRTT + rttvar, with rttvar kept at least tcp_rto_min (tcp_rtt_estimator)
    rttvar_floor=0.2,
    rto_slop=0.0,
    rto_max=120.0,
    # tcp_syn_linear_timeouts = 4 (tcp_retransmit_timer); tcp_syn_retries = 6, so 6 + 4 = 10
    # retransmissions (tcp_write_timeout): 11 SYNs, ETIMEDOUT after 1+1+1+1+1+2+...+64 = 131 s.
    syn_linear=4,
    synack_linear=0,  # inet_csk_reqsk_queue / reqsk_timer_handler: TCP_TIMEOUT_INIT << n
    syn_retries=10,
    syn_timeout=None,
    # tcp_rcv_synsent_state_process: "Previous FIN/ACK or RST/ACK might be ignored", so with no
    # retransmission yet the timer is reset to TCP_TIMEOUT_MIN, 2 jiffies (8 ms at HZ=250; the
    # SYN went out again 9 ms after the bad ACK on a 6.18 kernel)
    syn_bad_ack_retry=0.008,
    synack_retries=5,  # tcp_synack_retries
    retries2=15,  # tcp_retries2
    # tcp_orphan_retries = 0, which tcp_orphan_retries() turns into 8 while the peer is alive.
    orphan_retries=8,
    linux_give_up=True,
    r2=None,
    rst_on_give_up=False,  # tcp_write_err: ETIMEDOUT, nothing on the wire (TCPAbortOnTimeout)
    # TCP_DELACK_MIN = TCP_ATO_MIN = 40 ms; tcp_incr_quickack(TCP_MAX_QUICKACKS = 16) when the
    # first data arrives; tcp_fin() enters pingpong mode, so the ACK of a FIN waits once data
    # has been received (before that icsk_ack.ato is 0 and the ACK goes at once).
    delayed_ack=0.04,
    quick_acks=16,
    delay_fin_ack=True,
    # tcp_early_retrans = 3 (tcp_schedule_loss_probe); it needs SACK, which Linux peers offer
    # and the model assumes (exported packetdrill scripts put sackOK on the peer's SYN)
    tail_loss_probe=True,
    fin_timeout=60.0,  # tcp_fin_timeout, orphaned sockets only (tcp_close)
    # tcp_timewait_state_process: inet_twsk_reschedule for any out-of-window segment with ACK
    time_wait_restart_on_any=True,
    rfc1337=False,  # tcp_rfc1337 = 0: a RST kills TIME_WAIT (tcp_timewait_state_process)
    time_wait_accepts_syn=True,  # tcp_timewait_state_process: TCP_TW_SYN when seq > rcv_nxt
    # tcp_v4_rcv, TCP_TW_SYN: no listener found (inet_lookup_listener) -> TCP_TW_ACK
    time_wait_syn_needs_listener=True,
    challenge_acks=True,  # tcp_send_challenge_ack (tcp_validate_incoming)
    # tcp_timewait_state_process: a RST not at RCV.NXT is neither in window nor a SYN: dropped
    time_wait_rst_challenge=False,
    # tcp_sequence tests end_seq against rcv_wup, not RCV.NXT + 1; tcp_rcv_state_process then
    # ends CLOSING (tcp_time_wait) or LAST_ACK (tcp_done) on its ACK and consumes the FIN
    old_segment_acks=True,
    old_fin_answered_in_time_wait=False,
    oow_ack_interval=0.5,  # tcp_invalid_ratelimit = 500 ms (tcp_oow_rate_limited)
    # tcp_rcv_state_process step 7: with RCV_SHUTDOWN, end_seq - fin beyond RCV.NXT: tcp_reset
    orphan_fin_gap_resets=True,
    # tcp_reset: ECONNRESET, but EPIPE in CLOSE_WAIT (the peer had already said goodbye)
    reset_errors=(
        ("ESTABLISHED", "ECONNRESET"),
        ("FIN_WAIT_1", "ECONNRESET"),
        ("FIN_WAIT_2", "ECONNRESET"),
        ("CLOSE_WAIT", "EPIPE"),
        ("CLOSING", "ECONNRESET"),
        ("LAST_ACK", "ECONNRESET"),
    ),
    drop_synfin=False,
    blackhole=0,
)

FREEBSD = Profile(
    name="freebsd",
    description=(
        "FreeBSD 14 defaults (sys/netinet/tcp_timer.[ch], tcp_input.c, tcp_output.c, "
        "tcp_syncache.c, tcp_timewait.c). macOS, a FreeBSD relative, differs where it matters "
        "most here: its net.inet.tcp.msl is 15000 ms, so its TIME_WAIT lasts 30 s, not 60 s."
    ),
    msl=30.0,  # TCPTV_MSL = 30 s (net.inet.tcp.msl); tcp_twstart arms 2 * V_tcp_msl
    initial_rto=1.0,  # TCPTV_RTOBASE
    rto_min=0.03,  # TCPTV_MIN = hz/33 (net.inet.tcp.rexmit_min)
    rttvar_floor=0.0,
    rto_slop=0.2,  # TCPTV_CPU_VAR (net.inet.tcp.rexmit_slop), added by TCPT_RANGESET
    rto_max=64.0,  # TCPTV_REXMTMAX
    # tcp_syn_backoff = {1, 1, 1, 1, 1, 2, 4, 8, ...} x TCPTV_RTOBASE; SYN_SENT ends when
    # TCPTV_KEEP_INIT (net.inet.tcp.keepinit = 75 s) runs out (tcp_timer_keep).
    syn_linear=4,
    synack_linear=4,  # syncache_timeout uses the same tcp_syn_backoff table
    syn_retries=None,
    syn_timeout=75.0,
    syn_bad_ack_retry=None,  # tcp_do_segment SYN_SENT: dropwithreset, timers untouched
    # tcp_syncache.c: SYNCACHE_MAXREXMTS = 3 retransmissions, then the entry is dropped.
    synack_retries=3,
    # TCP_MAXRXTSHIFT = 12 with tcp_backoff = {1, 2, 4, ..., 512} capped at TCPTV_REXMTMAX.
    retries2=12,
    orphan_retries=12,
    linux_give_up=False,
    r2=None,
    rst_on_give_up=True,  # tcp_timer_rexmt -> tcp_drop: RST when TCPS_HAVERCVDSYN
    delayed_ack=0.04,  # TCPTV_DELACK = hz/25 (net.inet.tcp.delacktime)
    quick_acks=0,  # DELAY_ACK: any lone in-order segment; a second one is ACKed at once
    delay_fin_ack=False,  # tcp_input: a FIN sets TF_ACKNOW
    tail_loss_probe=False,  # the default stack has no TLP (only RACK's, not the default)
    # An orphaned FIN_WAIT_2 is dropped after TP_MAXIDLE = tcp_keepcnt (8) x tcp_keepintvl
    # (75 s) of silence; net.inet.tcp.finwait2_timeout (60 s) applies only with
    # net.inet.tcp.fast_finwait2_recycle = 1, which is off by default.
    fin_timeout=600.0,
    # tcp_twcheck: only a FIN calls tcp_tw_2msl_reset; other segments are just ACKed
    time_wait_restart_on_any=False,
    rfc1337=True,  # tcp_twcheck: "If the segment contains RST: Drop the segment ... RFC 1337"
    time_wait_accepts_syn=True,  # tcp_twcheck: SYN with SEQ_GT(th_seq, rcv_nxt) reopens
    # tcp_twcheck closes TIME_WAIT first; the SYN is then looked up again (no listener: RST)
    time_wait_syn_needs_listener=False,
    challenge_acks=True,  # net.inet.tcp.insecure_rst = 0, insecure_syn = 0 (RFC 5961)
    time_wait_rst_challenge=False,  # tcp_twcheck: every RST in TIME_WAIT is dropped
    # tcp_do_segment trims old text ("keep on processing for RST or ACK"), then the ACK ends
    # CLOSING (tcp_twstart) or LAST_ACK (tcp_close)
    old_segment_acks=True,
    old_fin_answered_in_time_wait=True,  # tcp_twstart: TF_ACKNOW -> tcp_twrespond(tw, TH_ACK)
    # tcp_ack_war_time_window = 1000 ms with tcp_ack_war_cnt = 5 (tcp_output.c): one in 200 ms
    oow_ack_interval=0.2,
    # tcp_do_segment: only new data (tlen > 0) after the process is gone draws a RST
    orphan_fin_gap_resets=False,
    # tcp_do_segment, RST: so_error = ECONNRESET in every synchronized state but TIME_WAIT
    reset_errors=tuple(
        (state, "ECONNRESET")
        for state in (
            "ESTABLISHED",
            "FIN_WAIT_1",
            "FIN_WAIT_2",
            "CLOSE_WAIT",
            "CLOSING",
            "LAST_ACK",
        )
    ),
    drop_synfin=False,  # net.inet.tcp.drop_synfin = 0
    blackhole=0,  # net.inet.tcp.blackhole = 0: closed ports answer RST
)

RFC9293 = Profile(
    name="rfc9293",
    description="RFC 9293 with RFC 6298 and RFC 1122 only, no implementation's choices",
    msl=120.0,  # RFC 9293 section 3.4.2: MSL "arbitrarily defined to be 2 minutes"
    initial_rto=1.0,  # RFC 6298 section 2.1
    rto_min=1.0,  # RFC 6298 section 2.4: "Whenever RTO is computed, if it is less than 1 second"
    rttvar_floor=0.0,
    rto_slop=0.0,
    rto_max=120.0,  # RFC 6298 section 2.5: a maximum may be placed, of at least 60 s
    syn_linear=0,  # RFC 6298 section 5.5: back off (double) on every timeout
    synack_linear=0,
    syn_retries=None,
    syn_timeout=180.0,  # RFC 1122 4.2.3.5 / RFC 9293 3.8.3: R2 for a SYN at least 3 minutes
    syn_bad_ack_retry=None,  # RFC 9293 3.10.7.3: send the RST (unless RST), drop the segment
    synack_retries=7,  # the same 3 minutes for a SYN,ACK: 1+2+...+64 = 127 s, the 7th at 127 s
    retries2=None,
    orphan_retries=None,
    linux_give_up=False,
    r2=100.0,  # RFC 9293 3.8.3: R2 "SHOULD correspond to at least 100 seconds"
    rst_on_give_up=False,  # RFC 9293 3.10.8: signal the user, delete the TCB; no RST
    # RFC 1122 4.2.3.2 makes delaying an ACK a SHOULD bounded by 0.5 s; this profile ACKs at
    # once, the one choice that needs no number the RFCs do not give (and RFC 9293's figures).
    delayed_ack=None,
    quick_acks=0,
    delay_fin_ack=False,
    tail_loss_probe=False,
    fin_timeout=None,  # RFC 9293 has no FIN_WAIT_2 timer
    # RFC 9293 3.10.7.4 eighth step: a retransmitted FIN restarts 2MSL; other segments are ACKed
    time_wait_restart_on_any=False,
    rfc1337=False,  # RFC 9293 3.10.7.4: an acceptable RST in TIME_WAIT closes it
    time_wait_accepts_syn=False,  # RFC 9293 3.10.7.4 fourth step: challenge ACK (RFC 5961)
    time_wait_syn_needs_listener=False,
    challenge_acks=True,
    time_wait_rst_challenge=True,  # RFC 9293 3.10.7.4 second step, in TIME_WAIT as elsewhere
    old_segment_acks=False,  # RFC 9293 3.10.7.4 first step: unacceptable, ACK and drop
    old_fin_answered_in_time_wait=False,
    oow_ack_interval=0.5,  # RFC 5961 section 7 asks for a limit and leaves it open
    orphan_fin_gap_resets=False,  # RFC 1122 4.2.2.13 asks for a RST on data only
    # RFC 9293 3.10.7.4 second check: "connection reset" in these four; CLOSING, LAST_ACK and
    # TIME_WAIT just close
    reset_errors=tuple(
        (state, "ECONNRESET") for state in ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT")
    ),
    drop_synfin=False,
    blackhole=0,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (LINUX, FREEBSD, RFC9293)}
DEFAULT_PROFILE = "linux"


def get(name: str) -> Profile:
    """The profile called ``name``, or a one-line error listing the three."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise TcpbookError(
            f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}"
        ) from None


def for_sysctl(name: str) -> Profile | None:
    """The kernel a sysctl name belongs to: ``net.ipv4.*`` is Linux's, ``net.inet.tcp.*`` is
    FreeBSD's (and macOS's); ``None`` for any other name."""
    if name.startswith("net.ipv4."):
        return LINUX
    if name.startswith("net.inet.tcp."):
        return FREEBSD
    return None


__all__ = [
    "DEFAULT_PROFILE",
    "FREEBSD",
    "LINUX",
    "PROFILES",
    "RFC9293",
    "Profile",
    "for_sysctl",
    "get",
]
