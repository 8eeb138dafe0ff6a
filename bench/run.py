"""The benchmark: asgi_blog under a popular post, each goal a ratio to a ceiling measured in the same run.

    python -m bench.run                         # the full run (about 20 minutes; docs/benchmark.md)
    python -m bench.run --quick                 # every section at small sizes, about a minute
    python -m bench.run --sections storm --storm-readers 2000

Sections, in order: http (wrk rows against the floor `/blog/whoami/`), fanout
(5,000 readers on one process, 10,000 on two over each Redis layer), handshakes
(50 at a time), arrival (all at once), storm (restart with readers on, then the idle
measure on the largest storm's readers), soak (readers reconnecting for minutes).
The load client shares the machine's cores with the servers, so only ratios to a
ceiling from the same run are compared. Everything the app enforces stays on
(session auth, origin check); only the comment rate limit is off so one writer can
post the whole run. Results go to bench/results/<name>.json, with PNG plots; the run
exits non-zero when anything was lost or any row failed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench import fanout, goals, http, load, plots, soak, storm
from bench.targets import (
    LAYERS,
    Site,
    app,
    app_on_redis,
    capture_comment_frame,
    ceiling_frame_template,
    prepare_site,
    raw_asgi_ceiling,
    save_comments,
    websockets_ceiling,
)
from tests.processes import PROJECT_ROOT, RedisServer, open_files_as_allowed

RESULTS = PROJECT_ROOT / "bench" / "results"
SECTIONS = ("http", "fanout", "handshakes", "arrival", "storm", "soak")
WRK_SCRIPT = "wrk-summary.lua"
CEILINGS = {"app": "raw-asgi", "app-redis": "raw-asgi-x2", "app-redis-pubsub": "raw-asgi-x2"}


@asynccontextmanager
async def timed(name: str, timings: dict[str, float]):
    print(f"== {name} ==", flush=True)
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - started, 1)
        print(f"== {name}: {timings[name]:.0f} s ==", flush=True)


async def capture_template(site: Site) -> str:
    """The app's comment.created frame for a marker body, as the ceilings' frame template."""
    marker = load.BODY.format(token="0" * 8, seq=0)
    async with app(site.env, site.live_post) as target:
        captured = await capture_comment_frame(target.servers[0], site.live_post, marker)
    return ceiling_frame_template(captured, marker)


async def run_http(args: argparse.Namespace, site: Site, workdir: Path) -> list[dict]:
    script = workdir / WRK_SCRIPT
    script.write_text(http.SUMMARY_SCRIPT)
    async with app(site.env, site.live_post, name="app-http") as target:
        rows = await http.measure(
            target, site, rounds=args.http_rounds, seconds=args.http_seconds, script_path=str(script)
        )
    http.print_rows(rows)
    return rows


async def run_fanout(args: argparse.Namespace, site: Site, workdir: Path, template: str) -> list[dict]:
    settings = {"comments": args.comments, "rate": args.rate, "rounds": args.rounds}
    rows = []
    # Started one at a time: an idle server beside the one measured would still take its keepalive share.
    starts = [functools.partial(raw_asgi_ceiling, site.env, template), functools.partial(app, site.env, site.live_post)]
    if args.with_websockets:
        starts.append(functools.partial(websockets_ceiling, template))
    for start in starts:
        async with start() as target:
            rows.append(await fanout.measure(target, args.fanout_readers, **settings))
    redis = RedisServer(workdir=workdir).start()
    try:
        async with raw_asgi_ceiling(site.env, template, processes=2) as target:
            rows.append(await fanout.measure(target, args.fanout_two_readers, **settings))
        for layer in LAYERS:
            async with app_on_redis(site.env, redis.url, layer, site.live_post) as target:
                rows.append(await fanout.measure(target, args.fanout_two_readers, **settings))
    finally:
        redis.stop()
    return rows


async def run_arrivals(args: argparse.Namespace, site: Site, template: str, kind: str) -> list[dict]:
    post_id = site.posts[4 if kind == "handshakes" else 5]
    rows = []
    for start in (functools.partial(app, site.env, post_id), functools.partial(raw_asgi_ceiling, site.env, template)):
        async with start() as target:
            if kind == "handshakes":
                rows.append(await storm.handshakes(target, args.handshakes))
            else:
                rows.append(await storm.arrival(target, args.arrival))
            print(f"  {summary_line(rows[-1])}", flush=True)
    return rows


async def run_storms(args: argparse.Namespace, site: Site, template: str) -> list[dict]:
    rows = []
    largest = max(args.storm_readers)
    for number, readers in enumerate(args.storm_readers):
        post_id = site.posts[1 + number]
        idle_seconds = args.idle_seconds if readers == largest else 0
        save = functools.partial(save_comments, site.env, post_id, f"saved while down, {readers} readers", 5)
        async with app(site.env, post_id) as target:
            row = await storm.storm(
                target, readers, down_seconds=args.down_seconds, save_while_down=save, idle_seconds=idle_seconds
            )
            rows.append(row)
            print(f"  {summary_line(row)}", flush=True)
        async with raw_asgi_ceiling(site.env, template) as target:
            rows.append(await storm.storm(target, readers, down_seconds=args.down_seconds, idle_seconds=idle_seconds))
            print(f"  {summary_line(rows[-1])}", flush=True)
    return rows


async def run_soak(args: argparse.Namespace, site: Site) -> dict:
    post_id = site.posts[3]
    async with app(site.env, post_id, name="app-soak") as target:
        row = await soak.soak(
            target, post_id, readers=args.soak_readers, seconds=args.soak_seconds, comments_per_second=2, after=0
        )
    print(f"  {summary_line(row)}", flush=True)
    return row


def summary_line(row: dict) -> str:
    shown = {k: v for k, v in row.items() if k not in ("curve", "samples")}
    return json.dumps(shown)


async def run(args: argparse.Namespace, workdir: Path) -> dict:
    open_files_as_allowed()  # this process holds every reader socket
    timings: dict[str, float] = {}
    results: dict = {"timings": timings}
    async with timed("set-up", timings):
        site = prepare_site(workdir, tuple(args.page_lengths))
        template = await capture_template(site)
        results["ceiling_frame_bytes"] = len(template.format(body=load.BODY.format(token="0" * 8, seq=0)))
    if "http" in args.sections:
        async with timed("http", timings):
            results["http"] = await run_http(args, site, workdir)
    if "fanout" in args.sections:
        async with timed("fanout", timings):
            results["fan_out"] = await run_fanout(args, site, workdir, template)
            results["ratios"] = fanout.ratios(results["fan_out"], CEILINGS)
    for kind in ("handshakes", "arrival"):
        if kind in args.sections:
            async with timed(kind, timings):
                results[kind] = await run_arrivals(args, site, template, kind)
    if "storm" in args.sections:
        async with timed("storm", timings):
            results["storm"] = await run_storms(args, site, template)
    if "soak" in args.sections:
        async with timed("soak", timings):
            results["soak"] = await run_soak(args, site)
    return results


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


def counts(text: str) -> list[int]:
    try:
        values = [int(n) for n in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, not {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers, not {text!r}")
    return values


def sections(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",")]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return chosen


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every section at small sizes (a smoke run)")
    parser.add_argument("--sections", type=sections, default=list(SECTIONS), help=f"some of {','.join(SECTIONS)}")
    parser.add_argument("--name", help="results file name (default: full, or quick)")
    parser.add_argument("--http-rounds", type=int, default=3)
    parser.add_argument("--http-seconds", type=int, default=3, help="seconds per wrk round")
    parser.add_argument("--page-lengths", type=counts, default=[200, 2_000, 20_000], help="comments per post page")
    parser.add_argument("--fanout-readers", type=int, default=5_000, help="readers on one process")
    parser.add_argument("--fanout-two-readers", type=int, default=10_000, help="readers over two processes")
    parser.add_argument("--comments", type=int, default=20, help="comments per fan-out round")
    parser.add_argument("--rate", type=float, default=4.0, help="comments per second")
    parser.add_argument("--rounds", type=int, default=3, help="fan-out rounds per target, pooled")
    parser.add_argument(
        "--with-websockets", action="store_true", help="also the bare websockets server at --fanout-readers (~1 min)"
    )
    parser.add_argument("--handshakes", type=int, default=5_000, help="fresh readers, 50 at a time")
    parser.add_argument("--arrival", type=int, default=5_000, help="readers arriving at once")
    parser.add_argument("--storm-readers", type=counts, default=[5_000, 10_000])
    parser.add_argument("--down-seconds", type=float, default=5.0, help="how long daphne stays down in the storm")
    parser.add_argument("--idle-seconds", type=float, default=40.0, help="idle window on the largest storm's readers")
    parser.add_argument("--soak-readers", type=int, default=300)
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    args = parser.parse_args()
    if args.quick:
        args.http_rounds, args.http_seconds = 1, 1
        args.fanout_readers, args.fanout_two_readers, args.comments, args.rounds = 100, 100, 8, 1
        args.handshakes = args.arrival = 100
        args.with_websockets = True
        args.storm_readers, args.down_seconds, args.idle_seconds = [100], 2.0, 5.0
        args.soak_readers, args.soak_seconds = 100, 20.0
    args.name = args.name or ("quick" if args.quick else "full")
    return args


def main() -> None:
    args = arguments()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="asgi-blog-bench-") as workdir:
        results = asyncio.run(run(args, Path(workdir)))
    results["timings"]["total"] = round(time.perf_counter() - started, 1)
    results.update(machine=machine(), settings=vars(args))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{args.name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    images = plots.draw(results, RESULTS, args.name)
    table = goals.evaluate(results)
    print("\n" + goals.markdown(table))
    print(f"\nSection wall times (s): {results['timings']}")
    print(f"Results: {path}; plots: {', '.join(str(image) for image in images)}")
    problems = goals.broken(results)
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
