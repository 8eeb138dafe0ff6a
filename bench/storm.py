"""Readers arriving: handshakes 50 at a time, everyone at once, and a reconnect storm after a restart.

All three use the page script's reconnect behaviour (bench/live.py), against the app
and against the raw ceiling with the same client. The storm also leaves its readers
connected for the idle measure (memory per connection, CPU of an idle server).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from bench.live import Crowd, curve
from bench.load import cpu_seconds, rss_bytes
from bench.targets import Target

CONNECT_BATCH = 200
STORM_TIMEOUT_SECONDS = 300
# Past this, a section records who is in and goes on: the run must end within its budget.
ARRIVAL_TIMEOUT_SECONDS = 300
# The heartbeat pings each reader once, at most BLOG_SOCKET_PING_SECONDS (30) after the catch-up was
# sent to it, and then not again while nothing more is sent: the window starts after that ping, so
# that it measures readers at rest, not the storm's last work.
IDLE_SETTLE_SECONDS = 35
LOG_ERRORS = re.compile(r"took too long|Traceback")


def connector() -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(limit=0)


def log_errors(path: Path | None, offset: int) -> dict[str, int]:
    """'took too long' warnings and tracebacks daphne logged past `offset`."""
    if path is None or not path.exists():
        return {"took_too_long": 0, "tracebacks": 0}
    with path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    return {"took_too_long": text.count("took too long"), "tracebacks": text.count("Traceback")}


def log_size(path: Path | None) -> int:
    return path.stat().st_size if path is not None and path.exists() else 0


async def handshakes(target: Target, readers: int, at_a_time: int = 50) -> dict:
    """Time for `readers` fresh anonymous readers to get `hello`, `at_a_time` handshakes in flight."""
    async with aiohttp.ClientSession(connector=connector()) as session:
        crowd = Crowd(session, target.reader_urls, target.origin)
        started = time.perf_counter()
        goal = await crowd.arrive(readers, batch=at_a_time, within=ARRIVAL_TIMEOUT_SECONDS)
        seconds = time.perf_counter() - started
        await crowd.close()
    return {
        "target": target.name,
        "readers": readers,
        "at_a_time": at_a_time,
        "seconds": round(seconds, 2),
        "in": len(goal.done),
        "timed_out": not goal.reached.is_set(),
        "counters": crowd.counters.as_dict(),
    }


async def arrival(target: Target, readers: int) -> dict:
    """Every reader starts connecting at the same moment; time until all have `hello`."""
    async with aiohttp.ClientSession(connector=connector()) as session:
        crowd = Crowd(session, target.reader_urls, target.origin)
        goal = await crowd.arrive(readers, within=ARRIVAL_TIMEOUT_SECONDS)
        await crowd.close()
    return {
        "target": target.name,
        "readers": readers,
        "seconds": round(max(goal.seconds, default=ARRIVAL_TIMEOUT_SECONDS), 2),
        "in": len(goal.done),
        "timed_out": not goal.reached.is_set(),
        "counters": crowd.counters.as_dict(),
        "curve": curve(goal.seconds),
    }


async def storm(
    target: Target,
    readers: int,
    *,
    down_seconds: float,
    save_while_down: Callable[[], list[int]] | None = None,
    idle_seconds: float = 0,
) -> dict:
    """Stop the target's first daphne with readers on it, restart it on the same port, time their return.

    With `save_while_down`, comments are saved while no server runs, and a reader is only back
    once it has every one of them. With `idle_seconds`, the readers then stay idle that long and
    the restarted server's memory per connection and CPU are measured.
    """
    server = target.servers[0]
    fresh_rss = rss_bytes(server.process.pid)
    offset = log_size(server.log_path)
    async with aiohttp.ClientSession(connector=connector()) as session:
        crowd = Crowd(session, target.reader_urls[:1], target.origin)
        connected = await crowd.arrive(readers, batch=CONNECT_BATCH, within=STORM_TIMEOUT_SECONDS)

        await asyncio.to_thread(server.stop)  # SIGTERM, by pid
        down_at = time.perf_counter()
        saved = await asyncio.to_thread(save_while_down) if save_while_down else []
        await asyncio.sleep(max(0.0, down_at + down_seconds - time.perf_counter()))

        goal = crowd.aim(set(saved), time.perf_counter())
        await asyncio.to_thread(server.start)
        listening = time.perf_counter() - goal.since
        timed_out = False
        try:
            async with asyncio.timeout(STORM_TIMEOUT_SECONDS):
                await goal.reached.wait()
        except TimeoutError:
            timed_out = True
        row = {
            "target": target.name,
            "readers": readers,
            "down_seconds": down_seconds,
            "connected_before": len(connected.done),
            "saved_while_down": len(saved),
            "startup_seconds": round(listening, 2),
            "seconds": round(max(goal.seconds, default=float("nan")), 2),
            "back": len(goal.done),
            "timed_out": timed_out,
            "lost": sum(len(set(saved) - reader.seen) for reader in crowd.readers),
            "counters": crowd.counters.as_dict(),
            "log": log_errors(server.log_path, offset),
            "curve": curve(goal.seconds),
        }
        if idle_seconds:
            row["idle"] = await idle(server.process.pid, crowd, fresh_rss, idle_seconds)
        await crowd.close()
    return row


async def idle(pid: int, crowd: Crowd, fresh_rss: int, seconds: float) -> dict:
    """Memory per connection over a fresh process's, and CPU while every reader sits idle."""
    # The catch-up, its pings and the collection they cause finish first (a shorter wait in a short window).
    await asyncio.sleep(min(IDLE_SETTLE_SECONDS, seconds))
    rss = rss_bytes(pid)
    cpu_before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    cpu = cpu_seconds(pid) - cpu_before
    readers = len(crowd.readers)
    return {
        "readers": readers,
        "seconds": seconds,
        "open_at_end": sum(reader.ws is not None and not reader.ws.closed for reader in crowd.readers),
        "rss_per_connection_kb": round((rss - fresh_rss) / readers / 1024, 1),
        "idle_cpu_percent_of_a_core": round(100 * cpu / seconds, 2),
    }
