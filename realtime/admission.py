"""Admission control for WebSocket handshakes: a process takes on only as many as it can finish in time.

daphne rejects a handshake that the application has not accepted within 5 s
(HTTP 403), and the client retries. Handshakes wait for each other on the one
thread that does the database work, so past some burst size they all finish
late: every one is rejected, every client retries, and the work queued for the
rejected ones still runs. HandshakeAdmission stops that storm at the door:
- at most BLOG_HANDSHAKES_IN_FLIGHT handshakes are in flight (from
  websocket.connect until the application accepts or closes); the next ones wait
  in line, first come first served, as long as the line can be served within
  BLOG_HANDSHAKE_LINE_SECONDS at the rate this process has been answering
  handshakes. Waiting costs nothing, while a refusal costs the client a whole
  new handshake (daphne has finished the WebSocket upgrade before the
  application sees the socket), so a crowd the process can serve in time is
  served, not refused;
- past that, a handshake is accepted and closed at once with 1013, its reason
  the seconds to wait before retrying, without any session or database work.
  The waits form a virtual queue behind the line, served at the same rate, so
  the refused come back about as fast as the process can take them;
- each admitted handshake carries a Handshake in its scope (key "handshake"):
  when it arrived, and whether the client went away. Work for it (the session
  read, the consumer's read) checks Handshake.too_late() first and does nothing
  for a handshake older than BLOG_HANDSHAKE_DEADLINE_SECONDS (daphne has
  rejected it, or is about to) or one whose client disconnected. One whose turn
  in line comes that late is closed unread. A client that disconnects while its
  handshake is in flight also cancels the application for it at once, so
  nothing lingers until daphne kills it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from asgi_blog.gc_tuning import quiet_collector

logger = logging.getLogger(__name__)

# RFC 6455 "Try Again Later"; the reason is the number of seconds to wait, as a decimal string.
CLOSE_TRY_AGAIN_LATER = 1013
HANDSHAKE_SCOPE_KEY = "handshake"
# The rate is measured from handshakes answered while others waited in line (the process was
# working as fast as it could, so the rate is what it can do, not how fast clients came): the
# latest RATE_WINDOW_SECONDS of them, once there are at least RATE_SAMPLE.
RATE_WINDOW_SECONDS = 2.0
RATE_SAMPLE = 50
# The rate measured is trusted this long: a process whose line has emptied (the refused are
# waiting, or the crowd is in) has not become slower or faster.
RATE_MEMORY_SECONDS = 60.0
# Until it has measured itself, a process assumes it answers this many handshakes a second: about
# what it does for a crowd of readers that find the post in the cache (the benchmark's 5,000
# arriving at once are answered at 2,000-3,000 a second once daphne has upgraded them). On the
# optimistic side on purpose: a handshake that waited in line too long is closed unread and its
# client retries, while one refused wrongly costs a whole new handshake and a wait for nothing.
RATE_UNMEASURED_PER_SECOND = 2000.0
MAX_WAIT_SECONDS = 60.0
# Each wait is stretched by up to this fraction, so that clients told the same time do not come back together.
WAIT_JITTER = 0.2
# At most one refusal line a period: a storm refuses thousands a second.
REFUSAL_LOG_SECONDS = 10.0

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Replaced by tests to age a handshake without sleeping.
clock: Callable[[], float] = time.monotonic


class HandshakeTooLate(Exception):
    """The handshake is past its deadline or its client went away: nothing more is done for it."""


@dataclass(slots=True)
class Handshake:
    arrived: float
    abandoned: bool = False  # the client disconnected before the handshake was answered

    def too_late(self) -> bool:
        return self.abandoned or clock() - self.arrived > settings.BLOG_HANDSHAKE_DEADLINE_SECONDS


def check_in_time(handshake: Handshake | None) -> None:
    """Raise HandshakeTooLate for a handshake no one waits for any more; called before its database work."""
    if handshake is not None and handshake.too_late():
        raise HandshakeTooLate


class HandshakeRate:
    """How fast this process answers handshakes, and the virtual queue of the refused ones."""

    def __init__(self) -> None:
        self.answered: deque[float] = deque()  # when handshakes were answered with others waiting in line
        self.queue_ends_at = 0.0
        self.measured = RATE_UNMEASURED_PER_SECOND
        self.measured_at = float("-inf")

    def record_answer(self, now: float, *, line_waiting: bool) -> None:
        if line_waiting:
            self.answered.append(now)
            self.forget_before(now - RATE_WINDOW_SECONDS)

    def per_second(self, now: float) -> float:
        self.forget_before(now - RATE_WINDOW_SECONDS)
        if len(self.answered) >= RATE_SAMPLE:
            span = self.answered[-1] - self.answered[0]
            self.measured, self.measured_at = (len(self.answered) - 1) / max(span, 1e-3), now
        elif now - self.measured_at > RATE_MEMORY_SECONDS:
            return RATE_UNMEASURED_PER_SECOND
        return self.measured

    def forget_before(self, moment: float) -> None:
        while self.answered and self.answered[0] < moment:
            self.answered.popleft()

    def seconds_to_serve(self, now: float, handshakes: int) -> float:
        return handshakes / self.per_second(now)

    def wait_for_next_refused(self, now: float, in_flight: int) -> float:
        """Seconds the next refused client should wait: its place behind those in flight (and in line) and
        those refused before."""
        rate = self.per_second(now)
        # The handshakes in flight are served first; a queue that has drained starts again behind them.
        self.queue_ends_at = max(self.queue_ends_at, now + in_flight / rate) + 1 / rate
        wait = (self.queue_ends_at - now) * (1 + random.uniform(0, WAIT_JITTER))  # noqa: S311 - jitter, not a secret
        return min(wait, MAX_WAIT_SECONDS)


class HandshakeAdmission:
    """ASGI middleware for the WebSocket side: admits at most BLOG_HANDSHAKES_IN_FLIGHT handshakes at once."""

    def __init__(self, application: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.application = application
        self.in_flight = 0
        # Handshakes waiting for a place in flight, first come first served; a place freed passes to the first.
        self.line: deque[asyncio.Future[None]] = deque()
        self.rate = HandshakeRate()
        self.refused_unlogged = 0
        self.refusal_logged_at = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        handshake = Handshake(arrived=clock())
        # A place freed passes straight to the first in line, so a free place means no one waits.
        if self.in_flight < settings.BLOG_HANDSHAKES_IN_FLIGHT:
            self.in_flight += 1
        elif self.room_in_line():
            await self.wait_in_line()
            if handshake.too_late():
                self.place_freed()
                await receive()  # websocket.connect
                # Closed before accept: daphne answers 403, as it does itself at its timeout.
                await send({"type": "websocket.close"})
                return None
        else:
            return await self.refuse(receive, send)
        admitted = AdmittedHandshake(self, handshake, receive, send)
        try:
            await admitted.run(dict(scope, **{HANDSHAKE_SCOPE_KEY: handshake}))
        finally:
            admitted.end_in_flight()

    def room_in_line(self) -> bool:
        """Whether one more in line would still get its place within BLOG_HANDSHAKE_LINE_SECONDS."""
        return self.rate.seconds_to_serve(clock(), len(self.line) + 1) <= settings.BLOG_HANDSHAKE_LINE_SECONDS

    async def wait_in_line(self) -> None:
        """Return once a place in flight has passed to this handshake (counted in in_flight already)."""
        turn = asyncio.get_running_loop().create_future()
        self.line.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if not turn.cancelled():
                self.place_freed()  # handed a place just as it was cancelled: it goes to the next
            elif turn in self.line:
                self.line.remove(turn)
            raise

    def place_freed(self) -> None:
        """A handshake left flight: its place passes to the first still waiting in line, or is free."""
        while self.line:
            turn = self.line.popleft()
            # Cancelled with its task, which has yet to run and leave the line by itself.
            if not turn.cancelled():
                turn.set_result(None)
                return
        self.in_flight -= 1

    async def refuse(self, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        wait = self.rate.wait_for_next_refused(clock(), self.in_flight + len(self.line))
        # Accepted first: a browser sees a handshake refused with HTTP 403 only as 1006, without the wait.
        await send({"type": "websocket.accept"})
        await close_try_again_later(send, reason=f"{wait:.3f}")
        self.log_refusal()

    def log_refusal(self) -> None:
        self.refused_unlogged += 1
        now = clock()
        if now - self.refusal_logged_at >= REFUSAL_LOG_SECONDS:
            logger.warning(
                "websocket refused reason=too-many-handshakes refused=%s in_flight=%s limit=%s in_line=%s",
                self.refused_unlogged,
                self.in_flight,
                settings.BLOG_HANDSHAKES_IN_FLIGHT,
                len(self.line),
            )
            self.refused_unlogged = 0
            self.refusal_logged_at = now

    def handshake_answered(self) -> None:
        self.rate.record_answer(clock(), line_waiting=bool(self.line))
        self.place_freed()


async def close_try_again_later(send: Send, *, reason: str) -> None:
    """Close an accepted socket with 1013 and `reason`.

    daphne drops the reason of a websocket.close (django/daphne#374), and
    autobahn, under it, refuses to send 1013 from there (only 1000 and 3000-4999,
    crossbario/autobahn-python#1642). So under daphne the close frame is sent by
    the connection's protocol object, which daphne binds its send() to; any
    other server gets the ASGI message, which carries both.
    """
    protocol = daphne_protocol(send)
    if protocol is None:
        await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER, "reason": reason})
        return
    # A connection the client already closed ignores it.
    protocol.sendCloseFrame(code=CLOSE_TRY_AGAIN_LATER, reasonUtf8=reason.encode())


def daphne_protocol(send: Send) -> Any | None:
    """The daphne WebSocket protocol behind `send`, when `send` is daphne's own (partial(handle_reply, protocol))."""
    if not isinstance(send, functools.partial) or not send.args:
        return None
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # another server
        return None
    protocol = send.args[0]
    return protocol if isinstance(protocol, WebSocketProtocol) else None


class AdmittedHandshake:
    """One admitted socket: in flight until the application accepts or closes it, watched for a disconnect meanwhile.

    While it is in flight no one reads the client's messages (Channels reads the
    next one only after connect() returns), so a watcher reads for it: a
    websocket.disconnect then marks the handshake abandoned and cancels the
    application. The watcher's message, if any, is handed on to the application
    in order; once the handshake is answered the application reads directly.
    """

    # Kept for the socket's life (its send goes through here): no per-instance dict.
    __slots__ = (
        "admission",
        "application_task",
        "handshake",
        "in_flight",
        "real_receive",
        "real_send",
        "unread",
        "watcher",
    )

    def __init__(self, admission: HandshakeAdmission, handshake: Handshake, receive: Receive, send: Send) -> None:
        self.admission = admission
        self.handshake = handshake
        self.real_receive = receive
        self.real_send = send
        self.in_flight = True
        self.unread: list[Message] = []  # a message or two: a deque would cost every socket 600 bytes
        self.watcher: asyncio.Task[Message] | None = None
        self.application_task: asyncio.Task | None = None

    async def run(self, scope: Scope) -> None:
        self.unread.append(await self.real_receive())  # websocket.connect
        self.application_task = asyncio.current_task()
        self.watcher = asyncio.ensure_future(self.watch())
        try:
            await self.admission.application(scope, self.receive, self.send)
        except asyncio.CancelledError:
            if not self.handshake.abandoned:
                raise
            # Cancelled by the watcher: the client left, and its handshake ends here quietly.
            self.application_task.uncancel()
        finally:
            self.stop_watching()

    async def watch(self) -> Message:
        message = await self.real_receive()
        if message["type"] == "websocket.disconnect" and self.in_flight:
            self.handshake.abandoned = True
            self.application_task.cancel()
        return message

    def stop_watching(self) -> None:
        if self.watcher is not None and not self.watcher.done():
            # Nothing is lost: a queue's get() that is cancelled leaves its message in the queue.
            self.watcher.cancel()
            self.watcher = None

    async def receive(self) -> Message:
        if self.unread:
            return self.unread.pop(0)
        if self.watcher is not None:
            watcher, self.watcher = self.watcher, None
            return await watcher
        return await self.real_receive()

    async def send(self, message: Message) -> None:
        if self.in_flight and message["type"] in ("websocket.accept", "websocket.close"):
            self.end_in_flight(answered=True)
            self.stop_watching()
            if message["type"] == "websocket.accept":
                quiet_collector.socket_opened()
        await self.real_send(message)

    def end_in_flight(self, *, answered: bool = False) -> None:
        if not self.in_flight:
            return
        self.in_flight = False
        if answered:
            self.admission.handshake_answered()
        else:
            self.admission.place_freed()
