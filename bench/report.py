"""Print a markdown summary of a recorded run: every row, the ratios to the ceilings, the goals.

    python -m bench.report                    # bench/results/full.json
    python -m bench.report bench/results/quick.json

The output is meant to be pasted into bench/RESULTS.md, under its own notes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import goals
from tests.processes import PROJECT_ROOT

DEFAULT = PROJECT_ROOT / "bench" / "results" / "full.json"


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def http_table(rows: list[dict]) -> str:
    return table(
        ["row", "requests/s", "% of floor", "bytes/response", "requests/s per round", "errors"],
        [
            [r["row"], f"{r['requests_per_second']:.0f}", f"{r['percent_of_floor']:.0f}%"]
            + [f"{r['bytes_per_response']:,}", ", ".join(f"{v:.0f}" for v in r["round_requests_per_second"])]
            + [f"FAILED ({r['errors']})" if r["failed"] else "0"]
            for r in rows
        ],
    )


def fan_out_table(rows: list[dict]) -> str:
    return table(
        ["target", "readers", "p50 ms", "p99 ms", "max ms", "last-reader p50 ms", "delivered", "RSS/conn KB"]
        + ["p99 ms per round"],
        [
            [r["target"], f"{r['readers']:,}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", f"{r['max_ms']:.1f}"]
            + [f"{r['last_reader_p50_ms']:.1f}", f"{r['delivered']:,}/{r['expected']:,}"]
            + [f"{r['rss_per_connection_kb']:.1f}", ", ".join(f"{p:.0f}" for p in r["round_p99_ms"])]
            for r in rows
        ],
    )


def ratio_table(rows: list[dict]) -> str:
    return table(
        ["target", "ceiling", "readers", "p99 / ceiling", "p99 / ceiling's best round", "p50 / ceiling", "all in"],
        [
            [r["target"], r["ceiling"], f"{r['readers']:,}", f"{r['p99_vs_ceiling']:.2f}x"]
            + [f"{r['p99_vs_ceiling_best_round']:.2f}x", f"{r['p50_vs_ceiling']:.2f}x"]
            + ["yes" if r["all_delivered"] else "NO"]
            for r in rows
        ],
    )


def arrival_table(rows: list[dict]) -> str:
    return table(
        ["target", "readers", "in", "seconds until all in", "connects", "failed handshakes", "1013s", "other closes"],
        [
            [r["target"], f"{r['readers']:,}", f"{r['in']:,}", f"{r['seconds']:.1f}", f"{r['counters']['connects']:,}"]
            + [f"{r['counters']['failed_handshakes']:,}", f"{r['counters']['try_again_later']:,}"]
            + [", ".join(f"{code}: {n:,}" for code, n in r["counters"]["close_codes"].items()) or "-"]
            for r in rows
        ],
    )


def storm_table(rows: list[dict]) -> str:
    return table(
        ["target", "readers", "start-up s", "all back s", "back", "lost", "failed handshakes", "1013s"]
        + ["'took too long'", "tracebacks"],
        [
            [r["target"], f"{r['readers']:,}", f"{r['startup_seconds']:.1f}", f"{r['seconds']:.1f}"]
            + [f"{r['back']:,}", r["lost"], f"{r['counters']['failed_handshakes']:,}"]
            + [f"{r['counters']['try_again_later']:,}", r["log"]["took_too_long"], r["log"]["tracebacks"]]
            for r in rows
        ],
    )


def soak_table(row: dict) -> str:
    return table(
        ["seconds", "RSS MB", "open fds"], [[f"{s['seconds']:.0f}", s["rss_mb"], s["open_fds"]] for s in row["samples"]]
    )


def report(results: dict) -> str:
    machine, timings = results["machine"], results["timings"]
    parts = [
        f"Run of {machine['date'][:10]}: {machine['cores']} cores ({machine['cpu']}), {machine['memory']},"
        f" Python {machine['python']}; the load client on the same machine. Wall time per section (s): "
        + ", ".join(f"{name} {seconds:.0f}" for name, seconds in timings.items())
        + f". The ceilings' frame: {results['ceiling_frame_bytes']} bytes, the size of the app's comment.created.",
        "## Goals\n\n" + goals.markdown(goals.evaluate(results)),
    ]
    if "http" in results:
        parts.append("## HTTP (wrk, 8 connections, 1 thread)\n\n" + http_table(results["http"]))
    if "fan_out" in results:
        parts.append("## Fan-out\n\n" + fan_out_table(results["fan_out"]))
        parts.append("## Ratios to the ceilings\n\n" + ratio_table(results["ratios"]))
    for key, title in (("handshakes", "Handshakes, 50 at a time"), ("arrival", "Arrival at once")):
        if key in results:
            parts.append(f"## {title}\n\n" + arrival_table(results[key]))
    if "storm" in results:
        parts.append("## Reconnect storm (seconds from the restart)\n\n" + storm_table(results["storm"]))
    if "soak" in results:
        parts.append("## Soak: the server's memory and descriptors\n\n" + soak_table(results["soak"]))
    return "\n\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="?", type=Path, default=DEFAULT, help="a bench/results/*.json file")
    path = parser.parse_args().results
    if not path.exists():
        parser.error(f"{path} does not exist: run `make bench` (or python -m bench.run) first")
    print(report(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
