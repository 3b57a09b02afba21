"""Errors a reader can cause, each with a one-line message that says what is allowed."""

from __future__ import annotations


class TcpbookError(ValueError):
    """Bad input to tcpbook: the message is one line, fit to print as it is."""


class IllegalCall(TcpbookError):
    """A user call (connect, close, ...) that the endpoint's current state does not allow.

    RFC 9293 section 3.10 answers such calls with "error: connection ..." and changes nothing;
    so does tcpbook.
    """


class ProtocolError(TcpbookError):
    """A move the transition table does not have: the endpoint was asked to go where no row
    leads (``tcpbook.states.next_state``). It names the state and the event."""
