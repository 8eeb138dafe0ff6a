"""A reader that behaves like the page script (static/blog/live/socket.js), for the storm, arrival and soak.

It connects with `?after=<last comment id seen>&changes_after=<last change seen>`,
counts as in once it gets `hello`, answers the app's pings, and when the socket
fails or closes it waits as the script does:
- a refused or failed handshake, or a lost socket: `connectionLost` backoff, the
  first retry after 500 ms, doubling to at most 15 s, each delay drawn between half
  of it and all of it (jitter); `hello` resets the count;
- close 1013 ("try again later"): the number of seconds in the close reason, plus
  0-20%;
- close 4408 (too slow): at once the first time, then the backoff;
- 4401, 4404, 4429: the script stops there, and so does this reader.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

import aiohttp

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 15.0
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_TOO_SLOW = 4408
FINAL_CLOSES = {4401, 4404, 4429}
# A browser waits far longer, but a handshake stuck this long has failed for the measure.
HANDSHAKE_TIMEOUT_SECONDS = 30


def backoff_seconds(failures: int) -> float:
    base = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (failures - 1))
    return base / 2 + random.random() * (base / 2)  # noqa: S311 - jitter, not a secret


def try_again_seconds(reason: str) -> float:
    """The wait a 1013 close asks for (its reason is the number of seconds), plus 0-20%."""
    try:
        seconds = float(reason)
    except ValueError:
        seconds = FIRST_RETRY_SECONDS
    return seconds * (1 + random.random() * 0.2)  # noqa: S311 - jitter, not a secret


@dataclass
class Counters:
    connects: int = 0
    failed_handshakes: int = 0
    try_again_later: int = 0
    unexpected_closes: int = 0
    final_closes: int = 0
    close_codes: dict[str, int] = field(default_factory=dict)  # every close a reader did not ask for, by code

    def as_dict(self) -> dict[str, object]:
        return {**vars(self), "close_codes": dict(self.close_codes)}


class Goal:
    """Counts readers that said hello after `since` and hold every comment in `wanted`; the time each did."""

    def __init__(self, readers: int, wanted: set[int], since: float) -> None:
        self.readers, self.wanted, self.since = readers, wanted, since
        self.done: set[int] = set()
        self.seconds: list[float] = []
        self.reached = asyncio.Event()
        if readers == 0:
            self.reached.set()

    def check(self, reader: LiveReader) -> None:
        if id(reader) in self.done or reader.hello_at is None or reader.hello_at < self.since:
            return
        if not self.wanted <= reader.seen:
            return
        self.done.add(id(reader))
        # With nothing to wait for but hello, the reader was in when it said hello (it may be checked later).
        at = time.perf_counter() if self.wanted else reader.hello_at
        self.seconds.append(at - self.since)
        if len(self.done) >= self.readers:
            self.reached.set()


@dataclass(eq=False)
class LiveReader:
    session: aiohttp.ClientSession
    url: str
    origin: str
    counters: Counters
    last_id: int = 0
    last_change: int = 0
    seen: set[int] = field(default_factory=set)
    hello_at: float | None = None
    goal: Goal | None = None
    failures: int = 0
    ws: aiohttp.ClientWebSocketResponse | None = None
    stopping: bool = False
    resume_now: bool = False

    def start(self) -> asyncio.Task:
        return asyncio.create_task(self.run())

    async def run(self) -> None:
        while not self.stopping:
            delay = await self.connect_once()
            if delay is None:
                return
            if delay:
                await asyncio.sleep(delay)

    async def connect_once(self) -> float | None:
        """One socket's life; how long to wait before the next (None: stop for good)."""
        url = f"{self.url}?after={self.last_id}&changes_after={self.last_change}"
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_SECONDS):
                ws = await self.session.ws_connect(url, origin=self.origin, autoping=True)
        except (aiohttp.ClientError, OSError, TimeoutError):
            self.counters.failed_handshakes += 1
            return self.connection_lost()
        self.ws = ws
        self.counters.connects += 1
        code, reason = await self.read(ws)
        self.ws = None
        if self.stopping:
            return None
        if self.resume_now:  # this reader closed the socket itself (the soak's reconnects)
            self.resume_now = False
            return 0
        self.counters.close_codes[str(code)] = self.counters.close_codes.get(str(code), 0) + 1
        if code == CLOSE_TRY_AGAIN_LATER:
            self.counters.try_again_later += 1
            return try_again_seconds(reason)
        if code in FINAL_CLOSES:
            self.counters.final_closes += 1
            return None
        self.counters.unexpected_closes += 1
        if code == CLOSE_TOO_SLOW and self.failures == 0:
            self.failures = 1
            return 0
        return self.connection_lost()

    def connection_lost(self) -> float:
        self.failures += 1
        return backoff_seconds(self.failures)

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str]:
        while True:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.TEXT:
                await self.on_frame(ws, json.loads(message.data))
            elif message.type == aiohttp.WSMsgType.CLOSE:
                await ws.close()
                return message.data, message.extra or ""
            elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                return ws.close_code, ""

    async def on_frame(self, ws: aiohttp.ClientWebSocketResponse, frame: dict) -> None:
        kind = frame.get("type")
        if isinstance(frame.get("change"), int):
            self.last_change = max(self.last_change, frame["change"])
        if kind == "comment.created":
            comment_id = frame["comment"]["id"]
            self.seen.add(comment_id)
            self.last_id = max(self.last_id, comment_id)
        elif kind == "hello":
            self.failures = 0
            self.hello_at = time.perf_counter()
        elif kind == "ping":
            await ws.send_str(json.dumps({"type": "pong", "token": frame["token"]}))
            return
        else:
            return
        if self.goal is not None:
            self.goal.check(self)

    async def reconnect(self) -> None:
        """Close this socket and resume at once from the last comment seen, as a reload would."""
        if self.ws is not None and not self.ws.closed:
            self.resume_now = True
            await self.ws.close()

    async def stop(self) -> None:
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()


@dataclass
class Crowd:
    """Many LiveReaders of one target, started together or in batches."""

    session: aiohttp.ClientSession
    urls: list[str]
    origin: str
    counters: Counters = field(default_factory=Counters)
    readers: list[LiveReader] = field(default_factory=list)
    tasks: list[asyncio.Task] = field(default_factory=list)

    def add(self, count: int, after: int = 0) -> list[LiveReader]:
        start = len(self.readers)
        added = [
            LiveReader(self.session, self.urls[(start + n) % len(self.urls)], self.origin, self.counters, last_id=after)
            for n in range(count)
        ]
        self.readers.extend(added)
        return added

    def aim(self, wanted: set[int], since: float, readers: list[LiveReader] | None = None) -> Goal:
        chosen = self.readers if readers is None else readers
        goal = Goal(len(chosen), wanted, since)
        for reader in chosen:
            reader.goal = goal
            goal.check(reader)
        return goal

    async def arrive(self, count: int, after: int = 0, batch: int | None = None, within: float = 300) -> Goal:
        """Start `count` readers (all at once, or `batch` at a time, each batch in before the next).

        Returns the goal "all said hello"; past `within` seconds it is returned unreached, and
        the batches not started yet never are.
        """
        since = time.perf_counter()
        added = self.add(count, after)
        step = batch or count
        for start in range(0, count, step):
            group = added[start : start + step]
            group_goal = self.aim(set(), since, group)
            self.tasks.extend(reader.start() for reader in group)
            try:
                async with asyncio.timeout(max(0.0, since + within - time.perf_counter())):
                    await group_goal.reached.wait()
            except TimeoutError:
                break
        return self.aim(set(), since, added)

    async def close(self) -> None:
        await asyncio.gather(*(reader.stop() for reader in self.readers), return_exceptions=True)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def curve(seconds: list[float], points: int = 50) -> list[tuple[float, int]]:
    """Readers in against time, thinned to about `points` points, for the plots."""
    ordered = sorted(seconds)
    if not ordered:
        return []
    step = max(1, len(ordered) // points)
    thinned = [(round(ordered[n], 3), n + 1) for n in range(0, len(ordered), step)]
    if thinned[-1][1] != len(ordered):
        thinned.append((round(ordered[-1], 3), len(ordered)))
    return thinned
