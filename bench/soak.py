"""The soak: readers that keep reconnecting while a writer posts, for minutes; nothing missed, memory flat.

Each reader closes its socket every 1-5 s (at random) and resumes with `?after=` the
last comment it saw, as a page does after a reload or a network change. At the end
the writer stops and every reader must hold every comment saved since its first
connect. The server's RSS and open file descriptors are sampled every 30 s.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import aiohttp

from bench.live import Crowd, LiveReader
from bench.load import rss_bytes
from bench.storm import connector, log_errors, log_size
from bench.targets import Target

SAMPLE_SECONDS = 30
# A short soak (the smoke run) still gets a curve.
SAMPLES_AT_LEAST = 10
RECONNECT_SECONDS = (1.0, 5.0)
CATCH_UP_SECONDS = 60


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def keep_reconnecting(reader: LiveReader) -> None:
    while True:
        await asyncio.sleep(random.uniform(*RECONNECT_SECONDS))  # noqa: S311 - spread, not a secret
        await reader.reconnect()


async def write(send, comments_per_second: float, until: float) -> int:
    sent = 0
    started = time.perf_counter()
    while time.perf_counter() < until:
        await asyncio.sleep(max(0.0, started + sent / comments_per_second - time.perf_counter()))
        await send(f"soak {sent}")
        sent += 1
    return sent


async def sample(pid: int, started: float, samples: list[dict], every: float) -> None:
    while True:
        samples.append(
            {
                "seconds": round(time.perf_counter() - started, 1),
                "rss_mb": round(rss_bytes(pid) / 2**20, 1),
                "open_fds": open_fds(pid),
            }
        )
        await asyncio.sleep(every)


async def comment_ids(session: aiohttp.ClientSession, target: Target, post_id: int, after: int) -> set[int]:
    """Every comment on the post after `after`, from the app's JSON list (pages of 200)."""
    ids: set[int] = set()
    url = f"{target.origin}/blog/posts/{post_id}/comments/"
    while True:
        async with session.get(url, params={"after": after}, headers={"Accept": "application/json"}) as response:
            if response.status != 200:
                raise RuntimeError(f"the comment list answered {response.status}, not 200")
            page = await response.json()
        if not page["comments"]:
            return ids
        ids.update(comment["id"] for comment in page["comments"])
        after = max(ids)


async def soak(
    target: Target, post_id: int, *, readers: int, seconds: float, comments_per_second: float, after: int
) -> dict:
    pid = target.pids[0]
    offset = log_size(target.servers[0].log_path)
    samples: list[dict] = []
    started = time.perf_counter()
    sampler = asyncio.create_task(sample(pid, started, samples, min(SAMPLE_SECONDS, seconds / SAMPLES_AT_LEAST)))
    async with aiohttp.ClientSession(connector=connector()) as session:
        crowd = Crowd(session, target.reader_urls, target.origin)
        await crowd.arrive(readers, after=after, batch=100)
        # The writer connects before the churn starts: its own handshake is not what is measured.
        async with target.writer() as send:
            churn = [asyncio.create_task(keep_reconnecting(reader)) for reader in crowd.readers]
            sent = await write(send, comments_per_second, started + seconds)
        for task in churn:
            task.cancel()
        await asyncio.gather(*churn, return_exceptions=True)
        ended = time.perf_counter()
        samples.append({"seconds": round(ended - started, 1), "rss_mb": round(rss_bytes(pid) / 2**20, 1)})
        samples[-1]["open_fds"] = open_fds(pid)
        sampler.cancel()

        wanted = await comment_ids(session, target, post_id, after)
        goal = crowd.aim(wanted, 0.0)
        try:
            async with asyncio.timeout(CATCH_UP_SECONDS):
                await goal.reached.wait()
        except TimeoutError:
            pass
        missed = sum(len(wanted - reader.seen) for reader in crowd.readers)
        await crowd.close()
    return {
        "target": target.name,
        "readers": readers,
        "seconds": seconds,
        "comments_sent": sent,
        "comments_saved": len(wanted),
        "missed": missed,
        "counters": crowd.counters.as_dict(),
        "log": log_errors(target.servers[0].log_path, offset),
        "samples": samples,
        **memory_summary(samples),
    }


def memory_summary(samples: list[dict]) -> dict:
    """RSS at start, after 2 minutes and at the end, and its growth over the last half."""
    end = samples[-1]
    half = min(samples, key=lambda s: abs(s["seconds"] - end["seconds"] / 2))
    two_minutes = min(samples, key=lambda s: abs(s["seconds"] - 120))
    return {
        "rss_mb_start": samples[0]["rss_mb"],
        "rss_mb_at_2_minutes": two_minutes["rss_mb"],
        "rss_mb_end": end["rss_mb"],
        "rss_mb_growth_last_half": round(end["rss_mb"] - half["rss_mb"], 1),
        "open_fds_start": samples[0]["open_fds"],
        "open_fds_at_2_minutes": two_minutes["open_fds"],
        "open_fds_end": end["open_fds"],
    }
