"""The collector's HTTP connections: uvicorn's httptools protocol with the bounds a server facing the
internet needs and uvicorn 0.54 does not have (it closes idle keep-alive connections, but has no
header or body timeout, no cap on a request head: httptools joins a long header value by
concatenation, so one 150 MB header took a worker 30 s).

- A request's line and headers must arrive within `header_timeout` of the connection opening, or of
  their first byte on a kept-alive connection: else 408 (a connection that sent nothing is closed).
- The head is at most `max_header_bytes` (counted a read at a time as it arrives, so a huge one is
  refused after a read past the cap, never read whole; and as the parser hands over its URL and
  headers, for a head that arrived whole in the read it began in) and `max_headers` headers: else 431.
- A body must progress by `body_min_rate` x `body_timeout` bytes in every `body_timeout` seconds
  (and by a byte at least): else 408, also for a body dropped after an early reply.

These hold before the app sees the request; what a request costs past them is the app's to bound.
A refusal here is written, then the connection lingers a moment, dropping what still arrives, so
that the client can read it before the close.
"""

from __future__ import annotations

import asyncio
import http
from typing import NamedTuple

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD, BODY = "head", "body"  # what a connection is waiting for; None: a request read whole, or idle
LINGER_SECONDS = 2.0  # after a refusal, for the client to read it
LINGER_BYTES = 1024 * 1024  # dropped at most meanwhile


class ConnectionLimits(NamedTuple):
    """The bounds on one client connection (services/settings.py)."""

    header_timeout: float
    body_timeout: float
    body_min_rate: int
    max_header_bytes: int
    max_headers: int


class HeadRefused(Exception):
    """A request head over a cap; raised inside the parser to stop it."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with timeouts and caps (the module's docstring). uvicorn makes
    one per connection: Config(http=functools.partial(GuardedHttpToolsProtocol, limits=...))."""

    def __init__(self, *args, limits: ConnectionLimits, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._timer: asyncio.TimerHandle | None = None
        self._phase: str | None = HEAD
        self._head_begun = False  # a byte of the request head has arrived
        self._began_in_this_read = False
        self._head_bytes = 0  # of the reads after the one the head began in
        self._parsed_head_bytes = 0  # of the URL and headers the parser handed over
        self._header_count = 0
        self._body_progress = 0  # bytes of the body in the current window
        self._head_refusal: tuple[int, str] | None = None
        self._lingering = False
        self._dropped = 0

    # The connection ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._arm(self.limits.header_timeout, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:  # refused: only waiting for the client to read the reply
            self._dropped += len(data)
            if self._dropped > LINGER_BYTES:
                self.transport.close()
            return
        self._began_in_this_read = False
        super().data_received(data)
        if self._lingering or self.transport.is_closing():
            return
        if self._phase is HEAD and self._head_begun:
            # The read the head began in is not counted: the head's share of it is unknown.
            if not self._began_in_this_read:
                self._head_bytes += len(data)
                if self._head_bytes > self.limits.max_header_bytes:
                    self._refuse(431, f"the request head is over {self.limits.max_header_bytes} bytes")
                    return
            if self._timer is None:
                self._arm(self.limits.header_timeout, self._head_late)
        elif self._phase is BODY and self._timer is None:
            self._arm(self.limits.body_timeout, self._body_window_ended)

    def send_400_response(self, msg: str) -> None:
        if self._head_refusal is not None:  # the parser was stopped by a cap
            self._refuse(*self._head_refusal)
        else:
            super().send_400_response(msg)

    # Parser callbacks ----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = HEAD
        self._head_begun = self._began_in_this_read = True
        self._head_bytes = self._parsed_head_bytes = self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self._count_parsed(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            self._head_refusal = (431, f"the request has over {self.limits.max_headers} headers")
            raise HeadRefused()
        self._count_parsed(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count_parsed(self, size: int) -> None:
        """The head's bytes as the parser hands them over: a head over the cap that arrived whole
        in one read (which data_received cannot measure) is refused here."""
        self._parsed_head_bytes += size
        if self._parsed_head_bytes > self.limits.max_header_bytes:
            self._head_refusal = (431, f"the request head is over {self.limits.max_header_bytes} bytes")
            raise HeadRefused()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._phase, self._head_begun, self._body_progress = BODY, False, 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_progress += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        self._phase = None
        super().on_message_complete()

    # Timeouts --------------------------------------------------------------------------------------

    def _arm(self, seconds: float, then) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, then)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _replying(self) -> bool:
        """Whether a reply to an earlier request on this connection is still to come (pipelined)."""
        return self.cycle is not None and not self.cycle.response_complete and self._phase is HEAD

    def _head_late(self) -> None:
        self._timer = None
        if self._phase is not HEAD or self.transport.is_closing():
            return
        if self._replying():  # judged once the reply before it is out
            self._arm(self.limits.header_timeout, self._head_late)
        elif self._head_begun:
            self._refuse(408, f"the request head did not arrive within {self.limits.header_timeout:g} seconds")
        else:  # nothing sent: an idle connection, closed
            self.transport.close()

    def _body_window_ended(self) -> None:
        self._timer = None
        if self._phase is not BODY or self.transport.is_closing():
            return
        least = max(1, int(self.limits.body_min_rate * self.limits.body_timeout))
        # Reading paused is this side's doing (the app busy, or a pipelined request waiting): not judged.
        if self._body_progress >= least or self.flow.read_paused:
            self._body_progress = 0
            self._arm(self.limits.body_timeout, self._body_window_ended)
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.disconnected = True  # the app reading the body is told the client went away
            cycle.message_event.set()
            self._refuse(408, f"the body arrived slower than {self.limits.body_min_rate} bytes per second"
                              f" over {self.limits.body_timeout:g} seconds")
        else:  # already answered: the rest of its body was being dropped
            self.transport.close()

    # Refusals ----------------------------------------------------------------------------------------

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` with a JSON error, then linger, dropping what arrives, and close."""
        self._disarm()
        self._lingering = True
        body = orjson.dumps({"error": message + "; nothing was stored"})
        head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n".encode()]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.transport.write(b"".join(head) + body)
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self._timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

