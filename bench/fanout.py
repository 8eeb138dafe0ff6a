"""Fan-out rows: one comment to every reader of a post, the app beside a raw ceiling of the same shape.

A target's readers connect once and stay for all its rounds (20 comments at 4/s
each by default); a row pools every receipt of every round, so one collector pause
in one round cannot decide its p99 alone, and keeps each round's own p99.
- 5,000 readers: `app` (one process, in-process layer) beside `raw-asgi` (one daphne)
  and the bare `websockets` server;
- 10,000 readers over two daphne processes: `app-redis` and `app-redis-pubsub` (the
  two channels-redis layers) beside `raw-asgi-x2`, whose writer sends each frame to
  both processes.
"""

from __future__ import annotations

from bench import load
from bench.targets import Target


async def measure(target: Target, readers: int, *, comments: int, rate: float | None, rounds: int) -> dict:
    async with target.writer() as send:
        results = await load.fan_out(
            reader_urls=target.reader_urls,
            origin=target.origin,
            send=send,
            server_pids=target.pids,
            readers=readers,
            comments=comments,
            rate=rate,
            rounds=rounds,
        )
    row = pooled(target.name, results)
    print_row(row)
    return row


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
        "rss_per_connection_kb": round(rounds[0]["rss_per_connection_kb"], 1),
        "round_p99_ms": [round(row["p99_ms"], 1) for row in rounds],
        "refused_1013": rounds[0]["refused_1013"],
    }


def ratio(value: float, ceiling: float) -> float:
    return round(value / ceiling, 2) if ceiling else float("nan")


def ratios(rows: list[dict], pairs: dict[str, str]) -> list[dict]:
    """Each app row's p99 and p50 over its ceiling's (pooled, and its best round)."""
    by = {(row["target"], row["readers"]): row for row in rows}
    out = []
    for row in rows:
        ceiling = by.get((pairs.get(row["target"], ""), row["readers"]))
        if ceiling is None:
            continue
        out.append(
            {
                "target": row["target"],
                "ceiling": ceiling["target"],
                "readers": row["readers"],
                "p99_vs_ceiling": ratio(row["p99_ms"], ceiling["p99_ms"]),
                # Stricter: the ceiling at its best, so its own pauses cannot flatter the app.
                "p99_vs_ceiling_best_round": ratio(row["p99_ms"], min(ceiling["round_p99_ms"])),
                "p50_vs_ceiling": ratio(row["p50_ms"], ceiling["p50_ms"]),
                "all_delivered": row["delivered"] == row["expected"],
            }
        )
    return out


def print_row(row: dict) -> None:
    print(
        f"  {row['target']:>16} {row['readers']:>6} readers  p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms"
        f"  max {row['max_ms']:7.1f} ms  delivered {row['delivered']}/{row['expected']}"
        f"  RSS/conn {row['rss_per_connection_kb']:5.1f} KB  p99 per round {row['round_p99_ms']}",
        flush=True,
    )
