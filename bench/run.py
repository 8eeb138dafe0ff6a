"""Fan-out benchmark: asgi_blog against two ceilings measured in the same run.

    python -m bench.run            # the full run recorded in bench/RESULTS.md
    python -m bench.run --quick    # a small smoke run

Each reader count is measured in rounds (3 by default); a round drives every
target once, each round starting from a different target, and a target's row
pools the latencies of all its rounds. One round is only 20 comments, so a
single pause in a server (a full garbage collection takes 100-300 ms with
thousands of sockets, in the ceilings as in the app) delays one comment for
every reader, 5% of that round's receipts, and would decide its p99 alone.
Each round's own p99 is kept in the results too.

Targets, each driven by the same load client (bench/load.py):
- websockets: a bare `websockets` broadcast server (ceiling);
- raw-asgi: an ASGI broadcast app with no Django, on daphne (ceiling);
- app: asgi_blog on one daphne process, in-process channel layer;
- app-redis: asgi_blog on two daphne processes sharing Redis, readers split over both.

Everything the app enforces stays on (session auth, origin check); only the
comment rate limit is off (BLOG_COMMENT_RATE_LIMIT=0) so one writer can post
the whole run. Results go to bench/results/ (JSON and a p99 plot).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import load
from tests.processes import (
    PROJECT_ROOT,
    DaphneServer,
    RedisServer,
    free_port,
    logged_in_session,
    open_files_as_allowed,
    stop,
    wait_for_port,
)

RESULTS = PROJECT_ROOT / "bench" / "results"
WRITER = "bench-writer"
IDLE_POSTS = 100
PAGE_COMMENTS = 200

SETUP_SCRIPT = f"""
from django.utils import timezone
from blog.models import Comment, Post, User
writer, created = User.objects.get_or_create(username={WRITER!r})
if created:
    writer.set_password("asgi-blog-demo")
    writer.save()
posts = [Post.objects.get_or_create(title=f"Bench post {{n}}", defaults=dict(
    body="Benchmark.", author=writer, status="published", published_at=timezone.now()))[0] for n in range({IDLE_POSTS})]
page = posts[-1]
if not page.comments.exists():
    Comment.objects.bulk_create(
        Comment(post=page, author=writer, body=f"Comment {{n}}") for n in range({PAGE_COMMENTS}))
print(",".join(str(post.pk) for post in posts))
"""

# A frame shaped like the app's comment.created, for the ceilings to relay.
CEILING_FRAME = (
    json.dumps(
        {
            "type": "comment.created",
            "comment": {
                "id": 0,
                "post": 1,
                "author": WRITER,
                "body": "{body}",
                "created": "2026-11-26T00:00:00.000000+00:00",
                "edited": None,
                "editable_until": "2026-11-26T00:05:00.000000+00:00",
                "client_id": None,
            },
        }
    )
    .replace("{", "{{")
    .replace("}", "}}")
    .replace("{{body}}", "{body}")
)


def site_env(workdir: Path, redis_url: str = "") -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "asgi_blog.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "BLOG_COMMENT_RATE_LIMIT": "0",
        "REDIS_URL": redis_url,
    }
    return env


def prepare_site(env: dict[str, str]) -> list[int]:
    manager = DaphneServer(env=env)
    manager.manage("migrate", "--noinput")
    manager.manage("collectstatic", "--noinput")
    output = manager.manage("shell", "--no-imports", "-c", SETUP_SCRIPT)
    return [int(post_id) for post_id in output.strip().splitlines()[-1].split(",")]


@asynccontextmanager
async def drained(ws: aiohttp.ClientWebSocketResponse):
    """Read and drop what the writer's own socket receives, so it never backs up; answer the app's pings."""

    async def drain() -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT and message.data.startswith(load.PING_PREFIX):
                await ws.send_str(load.pong(message.data))

    task = asyncio.create_task(drain())
    try:
        yield ws
    finally:
        task.cancel()
        await ws.close()


@asynccontextmanager
async def app_writer(server: DaphneServer, post_id: int):
    session = await logged_in_session(server, WRITER)
    try:
        ws = await session.ws_connect(server.ws_url(f"/ws/posts/{post_id}/comments/"), origin=server.origin)
        async with drained(ws):

            async def send(body: str) -> None:
                await ws.send_str(json.dumps({"type": "comment.create", "body": body}))

            yield send
    finally:
        await session.close()


@asynccontextmanager
async def ceiling_writer(url: str, origin: str):
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url, origin=origin)
        async with drained(ws):

            async def send(body: str) -> None:
                await ws.send_str(CEILING_FRAME.format(body=body))

            yield send


class Target:
    def __init__(self, name: str, reader_urls: list[str], origin: str, pids: list[int], writer) -> None:
        self.name, self.reader_urls, self.origin, self.pids, self.writer = name, reader_urls, origin, pids, writer

    async def fan_out(self, readers: int, comments: int, rate: float | None) -> dict:
        async with self.writer() as send:
            result = await load.fan_out(
                reader_urls=self.reader_urls,
                origin=self.origin,
                send=send,
                server_pids=self.pids,
                readers=readers,
                comments=comments,
                rate=rate,
            )
        return {"target": self.name, **result}


@asynccontextmanager
async def websockets_ceiling():
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220, S603 - started once, before any measuring
        [sys.executable, "-m", "bench.ceilings", "--port", str(port)],
        cwd=PROJECT_ROOT,
        preexec_fn=open_files_as_allowed,
    )
    try:
        wait_for_port(port, process, "websockets server")
        url, origin = f"ws://127.0.0.1:{port}/", f"http://127.0.0.1:{port}"
        yield Target("websockets", [url], origin, [process.pid], lambda: ceiling_writer(url, origin))
    finally:
        stop(process)


@asynccontextmanager
async def raw_asgi_ceiling(env: dict[str, str]):
    # DaphneServer runs daphne with the app's flags (DAPHNE_FLAGS), so the ceiling has them too.
    server = DaphneServer(env=env, application="bench.ceilings:raw_broadcast_app").start()
    try:
        url = server.ws_url("/")
        yield Target("raw-asgi", [url], server.origin, [server.process.pid], lambda: ceiling_writer(url, server.origin))
    finally:
        server.stop()


@asynccontextmanager
async def app(env: dict[str, str], post_id: int, processes: int = 1, name: str = "app"):
    servers = [DaphneServer(env=env) for _ in range(processes)]
    # Readers spread over the processes all come from the first one's page, as they would from one
    # site behind a proxy: that origin is not the other processes' own, so they are told to trust it.
    trusted = {**env, "DJANGO_CSRF_TRUSTED_ORIGINS": servers[0].origin}
    for server in servers:
        server.env = trusted
        server.start()
    try:
        urls = [server.ws_url(f"/ws/posts/{post_id}/comments/") for server in servers]
        yield Target(
            name,
            urls,
            servers[0].origin,
            [server.process.pid for server in servers],
            lambda: app_writer(servers[0], post_id),
        )
    finally:
        for server in servers:
            server.stop()


def ratio(value: float, ceiling: float) -> float:
    return round(value / ceiling, 2) if ceiling else float("nan")


def pooled(target: str, rounds: list[dict]) -> dict:
    """One row for a target from its rounds: statistics over every receipt of every round."""
    latencies = [latency for row in rounds for latency in row.pop("latencies_ms")]
    last_reader = [latency for row in rounds for latency in row.pop("last_reader_ms")]
    return {
        "target": target,
        "readers": rounds[0]["readers"],
        "comments": sum(row["comments"] for row in rounds),
        **load.latency_summary(latencies, last_reader),
        "delivered": sum(row["delivered"] for row in rounds),
        "expected": sum(row["expected"] for row in rounds),
        "rss_per_connection_kb": rounds[0]["rss_per_connection_kb"],
        "round_p99_ms": [round(row["p99_ms"], 1) for row in rounds],
    }


def print_row(row: dict) -> None:
    print(
        f"{row['target']:>10} {row['readers']:>6} readers  p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms"
        f"  max {row['max_ms']:7.1f} ms  last-reader p50 {row['last_reader_p50_ms']:7.1f} ms"
        f"  delivered {row['delivered']}/{row['expected']}  RSS/conn {row['rss_per_connection_kb']:5.1f} KB"
        f"  p99 per round {row.get('round_p99_ms', '-')}",
        flush=True,
    )


async def run(args: argparse.Namespace, workdir: Path) -> dict:
    open_files_as_allowed()  # this process holds every reader socket
    env = site_env(workdir)
    post_ids = prepare_site(env)
    fan_out_post, page_post = post_ids[0], post_ids[-1]
    redis = RedisServer(workdir=workdir).start()
    try:
        fan_out_rows, bursts = await fan_out_runs(args, env, redis.url, fan_out_post)
    finally:
        redis.stop()

    # Alone on the machine from here: the fan-out targets are stopped, so nothing else competes.
    # The window covers whole keepalive intervals (--ping-interval 60), so every socket's pings count alike.
    print(f"Idle: {args.idle} readers for {args.idle_seconds} s, the raw ceiling, then the app", flush=True)
    idle = {}
    async with raw_asgi_ceiling(env) as raw:
        idle["raw-asgi"] = await measure_idle(raw, raw.reader_urls, args)
    async with app(env, fan_out_post, name="app-idle") as idle_app:
        # The same readers spread over IDLE_POSTS posts.
        urls = [idle_app.reader_urls[0].replace(f"/{fan_out_post}/", f"/{post_id}/") for post_id in post_ids]
        idle["app"] = await measure_idle(idle_app, urls, args)

    async with app(env, page_post, name="app-page") as page_app:
        page_url = page_app.origin + f"/blog/posts/{page_post}/"
        page = await load.page_rate(url=page_url, seconds=5, concurrency=8)
    print(f"Post page with {PAGE_COMMENTS} comments: {page['requests_per_second']:.0f} requests/s", flush=True)
    return {"fan_out": fan_out_rows, "burst": bursts, "idle": idle, "page": page}


async def measure_idle(target: Target, urls: list[str], args: argparse.Namespace) -> dict:
    result = await load.idle(
        reader_urls=urls, origin=target.origin, server_pids=target.pids, readers=args.idle, seconds=args.idle_seconds
    )
    print(f"  {target.name}: {result}", flush=True)
    return result


async def fan_out_runs(args: argparse.Namespace, env: dict[str, str], redis_url: str, post_id: int):
    async with AsyncExitStack() as stack:
        targets = [
            await stack.enter_async_context(websockets_ceiling()),
            await stack.enter_async_context(raw_asgi_ceiling(env)),
            await stack.enter_async_context(app(env, post_id)),
            await stack.enter_async_context(
                app({**env, "REDIS_URL": redis_url}, post_id, processes=2, name="app-redis")
            ),
        ]
        print(f"Fan-out: {args.comments} comments at {args.rate}/s, {args.rounds} rounds", flush=True)
        rows = []
        for readers in args.readers:
            rounds: dict[str, list[dict]] = {target.name: [] for target in targets}
            for number in range(args.rounds):
                start = number % len(targets)
                for target in targets[start:] + targets[:start]:
                    rounds[target.name].append(await target.fan_out(readers, args.comments, args.rate))
            for target in targets:
                rows.append(pooled(target.name, rounds[target.name]))
                print_row(rows[-1])

        print("Burst: 150 comments back to back to 100 readers", flush=True)
        bursts = []
        for target in targets[2:]:
            bursts.append(pooled(target.name, [await target.fan_out(100, 150, None)]))
            print_row(bursts[-1])
    return rows, bursts


def summarise(results: dict) -> dict:
    rows = results["fan_out"]
    by = {(row["target"], row["readers"]): row for row in rows}
    ratios = []
    for readers in sorted({row["readers"] for row in rows}):
        raw, bare = by[("raw-asgi", readers)], by[("websockets", readers)]
        for name in ("app", "app-redis"):
            row = by[(name, readers)]
            ratios.append(
                {
                    "target": name,
                    "readers": readers,
                    "p99_vs_raw_asgi": ratio(row["p99_ms"], raw["p99_ms"]),
                    # Stricter: the ceiling at its best, so its own pauses cannot flatter the app.
                    "p99_vs_raw_asgi_best_round": ratio(row["p99_ms"], min(raw["round_p99_ms"])),
                    "p99_vs_websockets": ratio(row["p99_ms"], bare["p99_ms"]),
                    "p50_vs_raw_asgi": ratio(row["p50_ms"], raw["p50_ms"]),
                    "all_delivered": row["delivered"] == row["expected"],
                }
            )
    return {"ratios": ratios}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for target in dict.fromkeys(row["target"] for row in results["fan_out"]):
        points = sorted((row["readers"], row["p99_ms"]) for row in results["fan_out"] if row["target"] == target)
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=target)
    best = sorted(
        (row["readers"], min(row["round_p99_ms"])) for row in results["fan_out"] if row["target"] == "raw-asgi"
    )
    axes.plot([p[0] for p in best], [p[1] for p in best], linestyle="--", label="raw-asgi, best round")
    axes.set_xlabel("readers on one post")
    axes.set_ylabel("p99 latency (ms)")
    axes.set_title("Comment fan-out, 2-core machine, load client on the same machine")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def machine() -> dict[str, str]:
    cpu_lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpu_lines if "model name" in line), platform.processor())
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory.split(":", 1)[1].strip(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", default="250,500,1000,2000", help="reader counts, comma separated")
    parser.add_argument("--comments", type=int, default=20)
    parser.add_argument("--rate", type=float, default=4.0, help="comments per second")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per reader count, pooled")
    parser.add_argument("--idle", type=int, default=10_000, help="idle readers for the memory and CPU check")
    parser.add_argument("--idle-seconds", type=int, default=120, help="how long the idle CPU is measured")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    if args.quick:
        args.readers, args.comments, args.rounds, args.idle, args.idle_seconds = "50,100", 8, 1, 500, 10
    args.readers = [int(n) for n in args.readers.split(",")]

    with tempfile.TemporaryDirectory(prefix="asgi-blog-bench-") as workdir:
        results = asyncio.run(run(args, Path(workdir)))
    results.update(summarise(results), machine=machine(), settings=vars(args))
    RESULTS.mkdir(exist_ok=True)
    name = "quick" if args.quick else "fanout"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, RESULTS / f"{name}-p99.png")
    print("\nRatios of p99 to the ceilings (goal: app <= 2x raw-asgi, app-redis <= 2.5x):")
    for row in results["ratios"]:
        print(
            f"  {row['target']:>9} {row['readers']:>5} readers: {row['p99_vs_raw_asgi']:5.2f}x raw-asgi"
            f" ({row['p99_vs_raw_asgi_best_round']:5.2f}x its best round),"
            f" {row['p99_vs_websockets']:5.2f}x websockets, all delivered: {row['all_delivered']}"
        )
    idle, raw_idle = results["idle"]["app"], results["idle"]["raw-asgi"]
    print(
        f"Idle: {idle['rss_per_connection_kb']:.1f} KB per connection (goal <= 40; raw-asgi"
        f" {raw_idle['rss_per_connection_kb']:.1f}), {idle['idle_cpu_percent_of_a_core']:.1f}% of a core"
        f" (goal < 5; raw-asgi {raw_idle['idle_cpu_percent_of_a_core']:.1f}%)"
    )
    print(f"Results: {RESULTS / (name + '.json')}, plot: {RESULTS / (name + '-p99.png')}")


if __name__ == "__main__":
    main()
