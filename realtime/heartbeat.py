"""Proof that a socket's reader reads, and a bound on what it may leave unread.

daphne keeps whatever a client has not read in memory, without limit, and
resets its own keepalive timer whenever the client sends anything, so a
client that sends but never reads is invisible to it. So the server sends
{"type": "ping", "token": <random>} every BLOG_SOCKET_PING_SECONDS, and early
whenever BLOG_SOCKET_PING_BYTES were sent since the last ping; the client
answers {"type": "pong", "token": <the same>}, which it can only do by reading
the ping. A pong confirms everything sent before its ping; a socket sent
nothing since its last ping is not pinged again. The socket is closed
with 4408 when its oldest unanswered ping is BLOG_SOCKET_PONG_TIMEOUT_SECONDS
old (checked by a timer), or when a frame would take the bytes sent since the
newest confirmed ping past BLOG_SOCKET_MAX_UNREAD_BYTES (checked on every
send): daphne never holds more than that for a reader that does not read.

The consumer hands every frame to Heartbeat.send and every pong to
Heartbeat.answered; the heartbeat sends and closes through the callbacks it is
given, so it knows nothing else about the consumer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from django.conf import settings

from realtime import broadcast

logger = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4408
# The share of the ping interval over which the pings of sockets woken together are spread.
PING_SPREAD = 0.25


@dataclass(frozen=True)
class HeartbeatLimits:
    ping_seconds: float
    ping_bytes: int
    pong_timeout_seconds: float
    max_unread_bytes: int

    @classmethod
    def from_settings(cls) -> HeartbeatLimits:
        return cls(
            ping_seconds=settings.BLOG_SOCKET_PING_SECONDS,
            ping_bytes=settings.BLOG_SOCKET_PING_BYTES,
            pong_timeout_seconds=settings.BLOG_SOCKET_PONG_TIMEOUT_SECONDS,
            max_unread_bytes=settings.BLOG_SOCKET_MAX_UNREAD_BYTES,
        )


@dataclass(frozen=True)
class Ping:
    token: str
    sent_at: float
    # Bytes sent on the socket up to and including this ping: what its pong confirms.
    sent_bytes: int


def frame_bytes(text: str) -> int:
    """The UTF-8 size of a frame. isascii() costs nothing in CPython; other frames are measured once
    for all the sockets they go to (the hub hands the same string to each)."""
    return len(text) if text.isascii() else _utf8_length(text)


@functools.lru_cache(maxsize=16)
def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


class Heartbeat:
    def __init__(
        self,
        *,
        send: Callable[[str], Awaitable[None]],
        close: Callable[[str], Awaitable[None]],
        tick: Callable[[], Awaitable[None]] | None = None,
        limits: HeartbeatLimits | None = None,
    ) -> None:
        """send(text) puts a frame on the socket; close(reason) closes it with CLOSE_TOO_SLOW;
        tick(), if given, runs every ping interval while the socket is open."""
        self.send_frame = send
        self.close_socket = close
        self.on_tick = tick
        self.limits = limits or HeartbeatLimits.from_settings()
        self.sent_bytes = 0
        self.confirmed_bytes = 0
        self.pinged_bytes = 0
        self.unanswered: list[Ping] = []
        self.last_tick = time.monotonic()
        self.timer: asyncio.TimerHandle | None = None
        self.ticking: asyncio.Task | None = None
        self.started = False
        self.stopped = False

    def start(self) -> None:
        self.started = True
        self.last_tick = self.tick_started_now()
        self.schedule()

    def stop(self) -> None:
        """Send nothing more: the socket is closing."""
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()
        # A tick that is closing the socket must not cancel itself halfway.
        if self.ticking is not None and self.ticking is not asyncio.current_task():
            self.ticking.cancel()

    @property
    def unconfirmed_bytes(self) -> int:
        return self.sent_bytes - self.confirmed_bytes

    @property
    def room_left(self) -> int:
        """How many more bytes may be sent before a pong confirms some."""
        return self.limits.max_unread_bytes - self.unconfirmed_bytes

    async def send(self, text: str) -> None:
        if self.stopped:
            return
        size = frame_bytes(text)
        if size > self.room_left:
            await self.give_up(f"unread-bytes unconfirmed={self.unconfirmed_bytes}")
            return
        self.sent_bytes += size
        if self.timer is None and self.started and not self.stopped:
            # Idle until now, so no timer was running: the next ping is due about an interval from now.
            self.last_tick = self.tick_started_now()
            self.schedule()
        await self.send_frame(text)
        if self.sent_bytes - self.pinged_bytes >= self.limits.ping_bytes:
            await self.ping()

    async def ping(self) -> None:
        token = secrets.token_urlsafe(12)
        frame = broadcast.encode_frame({"type": "ping", "token": token})
        # Counted before the await, so that a send meanwhile does not ping again.
        self.pinged_bytes = self.sent_bytes + frame_bytes(frame)
        self.unanswered.append(Ping(token=token, sent_at=time.monotonic(), sent_bytes=self.pinged_bytes))
        await self.send(frame)

    def answered(self, token: str) -> bool:
        """A pong: confirms what was sent up to its ping, and the pings before it. Unknown tokens are ignored.

        So is a pong read after its ping's deadline: a busy event loop can run the deadline's
        timer late, and the pong read first must not undo the timeout it already missed.
        """
        now = time.monotonic()
        for index, ping in enumerate(self.unanswered):
            if ping.token == token:
                if now - ping.sent_at >= self.limits.pong_timeout_seconds:
                    return False
                self.confirmed_bytes = max(self.confirmed_bytes, ping.sent_bytes)
                del self.unanswered[: index + 1]
                return True
        return False

    def overdue(self, now: float) -> bool:
        return bool(self.unanswered) and now - self.unanswered[0].sent_at >= self.limits.pong_timeout_seconds

    # The timer: a tick every ping interval, and one at the oldest ping's deadline; none
    # while everything sent is confirmed (and no slot to renew), so idle sockets cost nothing.

    def tick_started_now(self) -> float:
        """Now, moved back by up to a quarter of the ping interval, at random.

        Every reader of a post wakes from idle at the same comment (and every reader of a
        restarted server connects within seconds): without the spread, their pings would all
        fall due in the same turn of the event loop, delaying the next comment for all of them.
        """
        return time.monotonic() - random.uniform(0, PING_SPREAD * self.limits.ping_seconds)  # noqa: S311 - a spread, not a secret

    def schedule(self) -> None:
        if self.stopped:
            return
        wake_at = self.last_tick + self.limits.ping_seconds
        if self.unanswered:
            wake_at = min(wake_at, self.unanswered[0].sent_at + self.limits.pong_timeout_seconds)
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(max(0.0, wake_at - time.monotonic()), self.wake)

    def wake(self) -> None:
        # Decided here, without a task: most wakes of an idle socket have nothing to do.
        now = time.monotonic()
        if self.overdue(now):
            self.ticking = asyncio.ensure_future(self.give_up("no-pong"))
            return
        work: list[Callable[[], Awaitable[None]]] = []
        if now - self.last_tick >= self.limits.ping_seconds:
            self.last_tick = now
            # Nothing sent since the newest ping: nothing new to confirm (its answer, or its
            # timeout, settles the rest). Idle sockets then cost no ping at all, where a ping
            # and its pong cost the server about 0.7 ms.
            if self.sent_bytes > self.pinged_bytes:
                work.append(self.ping)
            if self.on_tick is not None:
                work.append(self.on_tick)
        if work:
            self.ticking = asyncio.ensure_future(self.tick(work))
        elif self.unanswered or self.sent_bytes > self.pinged_bytes or self.on_tick is not None:
            self.schedule()
        else:
            self.timer = None  # everything confirmed: no timer until something is sent

    async def tick(self, work: list[Callable[[], Awaitable[None]]]) -> None:
        try:
            for step in work:
                await step()
        except Exception:
            # The socket may be gone; its disconnect stops the heartbeat.
            logger.exception("websocket heartbeat failed")
        self.schedule()

    async def give_up(self, reason: str) -> None:
        self.stop()
        await self.close_socket(reason)
