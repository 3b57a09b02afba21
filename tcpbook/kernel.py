"""A discrete-event kernel, shaped like SimPy's core: a clock and a heap of typed events.

``schedule`` puts an :class:`Event` on the heap (after a delay or at an absolute time),
``cancel`` takes it off, ``peek`` tells when the next one happens, ``step`` makes it happen and
``run`` steps until the heap is empty or a time limit. Entries are ``(time, sequence, event)``:
the sequence number breaks ties in insertion order, so the same inputs always give the same
run, byte for byte. Times are rounded to 9 decimal places (nanoseconds) so that sums such as
0.1 + 0.2 land on the same instant whichever way they were added up.

A kernel may count in integer ticks instead of seconds (``per_second=1_000_000``: the
packetdrill runner's microseconds); :meth:`Kernel.after` and :meth:`Kernel.seconds` convert.
"""

from __future__ import annotations

from heapq import heappop, heappush

from mypy_extensions import mypyc_attr

from .errors import TcpbookError


def round9(t: float) -> float:
    """``round(t, 9)``, the same float, without its decimal conversion in the usual case.

    ``m = t * 1e9`` is within 0.012 of the exact product while ``m < 1e14`` (a relative error of
    at most 2**-53), so when ``m`` is more than 0.4 from the nearest integer ``n``, ``n`` is the
    exact product's nearest integer and no tie; ``n / 1e9`` is then the float nearest to
    ``n / 10**9`` (IEEE division rounds correctly and both operands are exact), which is what
    ``round`` returns. Anything else (0, negatives, near-ties, huge times) takes ``round``.
    """
    m = t * 1e9
    if 0.0 < m < 1e14:  # (beyond that ``m`` may even overflow to infinity)
        n = round(m)
        if -0.4 < m - n < 0.4:
            return n / 1e9
    return round(t, 9)


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled core
class Event:
    """Something that happens at a time; a subclass says what, in :meth:`happen`.

    The kernel sets ``time`` and ``seq`` when the event is scheduled.
    """

    __slots__ = ("cancelled", "seq", "time")

    time: float
    seq: int
    cancelled: bool

    def happen(self) -> None:
        raise NotImplementedError


class Kernel:
    """The clock and the event heap; the one place that pushes onto the heap."""

    __slots__ = ("_heap", "_seq", "events", "now", "per_second")

    def __init__(self, per_second: int = 1) -> None:
        self.per_second = per_second
        self.now: float = 0 if per_second != 1 else 0.0
        self.events = 0  # events that happened (cancelled ones do not count)
        self._heap: list[tuple[float, int, Event]] = []
        self._seq = 0

    # -- time ---------------------------------------------------------------------------------

    def after(self, seconds: float) -> float:
        """The kernel time ``seconds`` from now (before rounding)."""
        if self.per_second == 1:
            return self.now + seconds
        return self.now + round(seconds * self.per_second)

    def seconds(self, t: float) -> float:
        """Kernel time ``t`` in seconds (as traces record times)."""
        return t if self.per_second == 1 else t / self.per_second

    def advance(self, t: float) -> None:
        """Move the clock to ``t`` (never back) without running anything.

        For a client that picks the next event itself (the drive-it-yourself model).
        """
        if t > self.now:
            self.now = round9(t) if self.per_second == 1 else t

    # -- the heap -----------------------------------------------------------------------------

    def schedule(
        self, event: Event, *, delay: float | None = None, at: float | None = None
    ) -> Event:
        """Schedule ``event`` ``delay`` seconds from now or at kernel time ``at``."""
        if delay is not None and at is None:
            return self.schedule_at(self.after(delay), event)
        if at is None or delay is not None:
            raise TypeError("schedule takes exactly one of delay= and at=")
        return self.schedule_at(at, event)

    def schedule_at(self, t: float, event: Event) -> Event:
        """Schedule ``event`` at kernel time ``t``: the one place that pushes onto the heap.

        Seconds are rounded to 9 decimal places here, so every time in a run is rounded alike.
        """
        if self.per_second == 1:
            t = round9(t)
        self._seq = seq = self._seq + 1
        event.time = t
        event.seq = seq
        event.cancelled = False
        heappush(self._heap, (t, seq, event))
        return event

    def cancel(self, event: Event) -> None:
        """Take ``event`` off the heap: it will not happen (and will not move the clock)."""
        event.cancelled = True

    def peek(self) -> float | None:
        """When the next event happens, or None when there is none."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heappop(heap)
        return heap[0][0] if heap else None

    def step(self) -> Event:
        """Make the next event happen (the clock moves to its time) and return it."""
        if self.peek() is None:
            raise TcpbookError("no event left to happen")
        t, _, event = heappop(self._heap)
        if t > self.now:
            self.now = t
        self.events += 1
        event.happen()
        return event

    def run(self, until: float | None = None, *, limit: int | None = None) -> None:
        """Step until no event is left or the next one is after ``until``.

        ``limit`` guards against a run that never settles: more events than that is an error.
        """
        heap = self._heap
        stop = float("inf") if until is None else until
        most = self.events + limit if limit is not None else float("inf")
        events = self.events
        try:
            while heap:
                if heap[0][0] > stop:
                    break
                t, _, event = heappop(heap)
                if event.cancelled:
                    continue  # not an event, and no reason to move the clock
                self.now = t
                events += 1
                if events > most:
                    raise TcpbookError(f"simulation did not settle within {limit} events")
                event.happen()
        finally:
            self.events = events


__all__ = ["Event", "Kernel", "round9"]
