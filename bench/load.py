"""The load client: N readers, one writer, M comments at R per second; the same for every target.

Latency is from the writer's send to each reader's receipt, on one clock (one
process). Frames are matched to comments by the text "bench <run token> <seq>" that every
target's frames carry, so parsing costs the same everywhere, and comments of
earlier runs on the same post are never counted.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

BODY = "bench {token} {seq}"
# The app's heartbeat (realtime/heartbeat.py): a reader that does not answer is closed.
PING_PREFIX = '{"type":"ping"'


def pong(ping: str) -> str:
    """The answer to the app's ping frame: the same frame, typed pong."""
    return ping.replace('"ping"', '"pong"', 1)


CONNECT_BATCH = 200
DELIVERY_GRACE_SECONDS = 15

# Sends a comment with this body; the target decides how (a comment.create frame, a raw broadcast frame).
Send = Callable[[str], Awaitable[None]]


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Readers:
    """Open reader sockets, each recording when it got which comment."""

    session: aiohttp.ClientSession
    pattern: re.Pattern[str]
    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    received: dict[int, list[float]] = field(default_factory=dict)
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def connect(self, urls: list[str], origin: str, count: int) -> None:
        for start in range(0, count, CONNECT_BATCH):
            batch = range(start, min(count, start + CONNECT_BATCH))
            opened = await asyncio.gather(
                *(self.session.ws_connect(urls[n % len(urls)], origin=origin, autoping=True) for n in batch)
            )
            self.sockets.extend(opened)
            # Read at once: aiohttp answers the server's keepalive pings only while the socket is read.
            self.tasks.extend(asyncio.create_task(self.read(ws)) for ws in opened)

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            if message.data.startswith(PING_PREFIX):
                await ws.send_str(pong(message.data))
                continue
            found = self.pattern.search(message.data)
            if found:
                self.received.setdefault(int(found.group(1)), []).append(time.perf_counter())

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def send_paced(send: Send, token: str, comments: int, rate: float | None) -> dict[int, float]:
    """Send the comments at `rate` per second (or back to back); when each was sent."""
    sent: dict[int, float] = {}
    started = time.perf_counter()
    for seq in range(comments):
        if rate:
            await asyncio.sleep(max(0.0, started + seq / rate - time.perf_counter()))
        sent[seq] = time.perf_counter()
        await send(BODY.format(token=token, seq=seq))
    return sent


async def fan_out(
    *,
    reader_urls: list[str],
    origin: str,
    send: Send,
    server_pids: list[int],
    readers: int,
    comments: int,
    rate: float | None,
) -> dict:
    """Connect the readers, send the comments (at `rate` per second, or back to back), measure.

    The result keeps every latency (`latencies_ms`, `last_reader_ms`) so that rounds can be pooled.
    """
    before = sum(rss_bytes(pid) for pid in server_pids)
    token = secrets.token_hex(4)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        group = Readers(session, re.compile(BODY.format(token=token, seq=r"(\d+)")))
        await group.connect(reader_urls, origin, readers)
        await asyncio.sleep(1)  # let handshakes and first frames settle
        after = sum(rss_bytes(pid) for pid in server_pids)
        client_cpu = time.process_time()
        # The client's own garbage collection would show up as server latency.
        gc.disable()
        try:
            sent = await send_paced(send, token, comments, rate)
            deadline = time.perf_counter() + DELIVERY_GRACE_SECONDS
            while time.perf_counter() < deadline and sum(map(len, group.received.values())) < readers * comments:  # noqa: ASYNC110 - polls a count, bounded by the deadline
                await asyncio.sleep(0.05)
        finally:
            gc.enable()
        client_cpu = time.process_time() - client_cpu
        await group.close()

    latencies = [(at - sent[seq]) * 1000 for seq, times in group.received.items() for at in times]
    last_reader = [(max(times) - sent[seq]) * 1000 for seq, times in group.received.items() if len(times) >= readers]
    return {
        "readers": readers,
        "comments": comments,
        **latency_summary(latencies, last_reader),
        "delivered": len(latencies),
        "expected": readers * comments,
        "rss_per_connection_kb": (after - before) / readers / 1024,
        "client_cpu_seconds": client_cpu,
        "latencies_ms": latencies,
        "last_reader_ms": last_reader,
    }


def latency_summary(latencies: list[float], last_reader: list[float]) -> dict[str, float]:
    """p50, p99 and max of every receipt, and the median time for a comment to reach its last reader."""
    return {
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "last_reader_p50_ms": percentile(last_reader, 0.50),
    }


async def idle(
    *, reader_urls: list[str], origin: str, server_pids: list[int], readers: int, seconds: float
) -> dict[str, float]:
    """Connect idle readers; measure the server's memory per connection and its CPU while idle."""
    before = sum(rss_bytes(pid) for pid in server_pids)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        group = Readers(session, re.compile("(?!)"))  # idle: no comment is expected
        await group.connect(reader_urls, origin, readers)
        await asyncio.sleep(10)  # let the connect work (and the garbage collection it causes) finish
        after = sum(rss_bytes(pid) for pid in server_pids)
        cpu_before = sum(cpu_seconds(pid) for pid in server_pids)
        await asyncio.sleep(seconds)
        cpu = sum(cpu_seconds(pid) for pid in server_pids) - cpu_before
        open_sockets = sum(not ws.closed for ws in group.sockets)
        await group.close()
    return {
        "readers": readers,
        "open_at_end": open_sockets,
        "rss_per_connection_kb": (after - before) / readers / 1024,
        "idle_cpu_percent_of_a_core": 100 * cpu / seconds,
    }


async def page_rate(*, url: str, seconds: float, concurrency: int) -> dict[str, float]:
    """Requests per second for one page, `concurrency` requests at a time."""
    done = 0
    statuses: set[int] = set()

    async def worker(session: aiohttp.ClientSession, until: float) -> None:
        nonlocal done
        while time.perf_counter() < until:
            async with session.get(url) as response:
                await response.read()
                statuses.add(response.status)
            done += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async with session.get(url) as warm:
            await warm.read()
        until = time.perf_counter() + seconds
        await asyncio.gather(*(worker(session, until) for _ in range(concurrency)))
    return {"requests_per_second": done / seconds, "statuses": sorted(statuses)}
