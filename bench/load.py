"""The load client: N readers, one writer, M comments at R per second; the same for every target.

Latency is from the writer's send to each reader's receipt, on one clock (one
process). Frames are matched to comments by the text "bench <round token> <seq>" that every
target's frames carry, so parsing costs the same everywhere, and comments of
earlier rounds on the same post are never counted. The readers connect once and
stay for every round of a target.
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

from bench.live import CLOSE_TRY_AGAIN_LATER, try_again_seconds

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
    token: str = ""  # the current round's: frames of earlier rounds are not counted
    refused: int = 0  # handshakes closed with 1013 and retried
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def connect(self, urls: list[str], origin: str, count: int) -> None:
        for start in range(0, count, CONNECT_BATCH):
            batch = range(start, min(count, start + CONNECT_BATCH))
            opened = await asyncio.gather(*(self.connect_one(urls[n % len(urls)], origin) for n in batch))
            self.sockets.extend(opened)
            # Read at once: aiohttp answers the server's keepalive pings only while the socket is read.
            self.tasks.extend(asyncio.create_task(self.read(ws)) for ws in opened)

    async def connect_one(self, url: str, origin: str) -> aiohttp.ClientWebSocketResponse:
        """A reader in once it has its first frame (`hello`); a 1013 refusal is retried after the wait it asks."""
        while True:
            ws = await self.session.ws_connect(url, origin=origin, autoping=True)
            first = await ws.receive()
            if first.type == aiohttp.WSMsgType.TEXT:
                return ws
            if first.type == aiohttp.WSMsgType.CLOSE and first.data == CLOSE_TRY_AGAIN_LATER:
                self.refused += 1
                await asyncio.sleep(try_again_seconds(first.extra or ""))
                continue
            raise RuntimeError(f"a reader was refused: {first.type} {first.data} {first.extra}")

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            if message.data.startswith(PING_PREFIX):
                await ws.send_str(pong(message.data))
                continue
            found = self.pattern.search(message.data)
            if found and found.group(1) == self.token:
                self.received.setdefault(int(found.group(2)), []).append(time.perf_counter())

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
    rounds: int = 1,
) -> list[dict]:
    """Connect the readers once, then per round send the comments (at `rate` per second, or back to back).

    Each round's result keeps every latency (`latencies_ms`, `last_reader_ms`) so that rounds can be pooled.
    """
    before = sum(rss_bytes(pid) for pid in server_pids)
    results = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        group = Readers(session, re.compile(r"bench (\w+) (\d+)"))
        await group.connect(reader_urls, origin, readers)
        await asyncio.sleep(1)  # let handshakes and first frames settle
        after = sum(rss_bytes(pid) for pid in server_pids)
        for _ in range(rounds):
            results.append(await one_round(group, send, readers, comments, rate))
            results[-1]["rss_per_connection_kb"] = (after - before) / readers / 1024
            results[-1]["refused_1013"] = group.refused
        await group.close()
    return results


async def one_round(group: Readers, send: Send, readers: int, comments: int, rate: float | None) -> dict:
    token = secrets.token_hex(4)
    group.token, group.received = token, {}
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
    latencies = [(at - sent[seq]) * 1000 for seq, times in group.received.items() for at in times]
    last_reader = [(max(times) - sent[seq]) * 1000 for seq, times in group.received.items() if len(times) >= readers]
    return {
        "readers": readers,
        "comments": comments,
        **latency_summary(latencies, last_reader),
        "delivered": len(latencies),
        "expected": readers * comments,
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
