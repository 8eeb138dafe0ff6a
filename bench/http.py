"""HTTP rows: requests per second for each page with `wrk`, against the floor `/blog/whoami/`.

Every row runs in each round (rounds interleaved, each starting from a different
row) with 8 connections on 1 thread; a row pools its rounds: requests over seconds,
bytes per response. wrk counts answers of 400 and above and socket errors; a row
with any is marked failed, and each URL is first fetched once to check it answers
200 (a redirect to the login page would otherwise pass as a fast page).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass, field

import aiohttp

from bench.targets import WRITER, Site, Target
from tests.processes import logged_in_session

FLOOR = "whoami"
CONNECTIONS = 8
# wrk's summary, written by its done() hook: the numbers its own report rounds or leaves out.
SUMMARY_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d\\n", summary.requests, summary.bytes,
    summary.duration, e.status, e.connect, e.read, e.write, e.timeout))
end
"""
SUMMARY = re.compile(r"^BENCH (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", re.MULTILINE)
WRK_MISSING = "wrk is not installed: sudo apt-get install wrk (or run `make bench` as root)"


@dataclass
class Row:
    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    logged_in: bool = False
    comments: int | None = None
    rounds: list[dict] = field(default_factory=list)


def rows_for(site: Site, session_cookie: str) -> list[Row]:
    cookie = {"Cookie": f"sessionid={session_cookie}"}
    rows = [Row(FLOOR, "/blog/whoami/"), Row("index", "/blog/")]
    for length, post_id in site.pages.items():
        rows.append(Row(f"post {length:,} anonymous", f"/blog/posts/{post_id}/", comments=length))
        rows.append(
            Row(f"post {length:,} logged in", f"/blog/posts/{post_id}/", cookie, logged_in=True, comments=length)
        )
    longest = max(site.pages)
    rows.append(
        Row(
            f"comments JSON ({longest:,})",
            f"/blog/posts/{site.pages[longest]}/comments/",
            {"Accept": "application/json"},
            comments=longest,
        )
    )
    return rows


async def check_answers(target: Target, row: Row) -> None:
    """One request before the row is measured: it answers 200, and a page is rendered for the right visitor."""
    async with (
        aiohttp.ClientSession(headers=row.headers) as session,
        session.get(target.origin + row.path, allow_redirects=False) as response,
    ):
        body = await response.text()
    if response.status != 200:
        raise RuntimeError(f"{row.name}: {row.path} answered {response.status}, not 200")
    # base.html shows the log-out form only to a logged-in user.
    if row.comments is not None and not row.path.endswith("/comments/") and row.logged_in != ("logout-form" in body):
        raise RuntimeError(f"{row.name}: the page is not rendered {'for' if row.logged_in else 'without'} a session")


async def wrk(target: Target, row: Row, seconds: float, script: str) -> dict:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s", "-s", script]
    for name, value in row.headers.items():
        command += ["-H", f"{name}: {value}"]
    process = await asyncio.create_subprocess_exec(
        *command, target.origin + row.path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output = (await process.communicate())[0].decode()
    found = SUMMARY.search(output)
    if process.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed on {row.name}: {output}")
    requests, size, microseconds, *errors = (int(n) for n in found.groups())
    return {"requests": requests, "bytes": size, "seconds": microseconds / 1e6, "errors": sum(errors)}


def pooled(row: Row) -> dict:
    requests = sum(r["requests"] for r in row.rounds)
    seconds = sum(r["seconds"] for r in row.rounds)
    errors = sum(r["errors"] for r in row.rounds)
    return {
        "row": row.name,
        "path": row.path,
        "logged_in": row.logged_in,
        "comments": row.comments,
        "requests_per_second": round(requests / seconds, 1) if seconds else 0.0,
        "bytes_per_response": round(sum(r["bytes"] for r in row.rounds) / requests) if requests else 0,
        "round_requests_per_second": [round(r["requests"] / r["seconds"], 1) for r in row.rounds],
        "errors": errors,
        "failed": errors > 0 or requests == 0,
    }


async def measure(target: Target, site: Site, *, rounds: int, seconds: float, script_path: str) -> list[dict]:
    if shutil.which("wrk") is None:
        raise RuntimeError(WRK_MISSING)
    session = await logged_in_session(target.servers[0], WRITER)
    try:
        cookie = next(c.value for c in session.cookie_jar if c.key == "sessionid")
    finally:
        await session.close()
    rows = rows_for(site, cookie)
    for row in rows:
        await check_answers(target, row)
    for number in range(rounds):
        start = number % len(rows)
        for row in rows[start:] + rows[:start]:
            row.rounds.append(await wrk(target, row, seconds, script_path))
    results = [pooled(row) for row in rows]
    floor = results[0]["requests_per_second"]
    for result in results:
        result["percent_of_floor"] = round(100 * result["requests_per_second"] / floor, 1) if floor else 0.0
    return results


def print_rows(rows: list[dict]) -> None:
    for row in rows:
        print(
            f"  {row['row']:>26}  {row['requests_per_second']:8.1f} req/s  {row['percent_of_floor']:5.1f}% of floor"
            f"  {row['bytes_per_response']:>9,} B/response  rounds {row['round_requests_per_second']}"
            f"  {'FAILED: ' + str(row['errors']) + ' errors' if row['failed'] else 'ok'}",
            flush=True,
        )
