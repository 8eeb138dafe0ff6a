"""The run's plots: fan-out p99 against readers, the storm's return curve, the soak's memory."""

from __future__ import annotations

from pathlib import Path


def draw(results: dict, folder: Path, name: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = []
    for suffix, key, painter in (
        ("p99", "fan_out", _fan_out),
        ("storm", "storm", _storm),
        ("soak-rss", "soak", _soak),
    ):
        if key not in results:
            continue
        figure, axes = plt.subplots(figsize=(7, 4.5))
        painter(axes, results[key])
        axes.grid(True, alpha=0.3)
        axes.legend()
        figure.tight_layout()
        path = folder / f"{name}-{suffix}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        drawn.append(path)
    return drawn


def _fan_out(axes, rows: list[dict]) -> None:
    for target in dict.fromkeys(row["target"] for row in rows):
        points = sorted((row["readers"], row["p99_ms"]) for row in rows if row["target"] == target)
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", linestyle="", label=target)
    axes.set_xlabel("readers on one post")
    axes.set_ylabel("p99 latency (ms)")
    axes.set_title("Comment fan-out, 2-core machine, load client on the same machine")


def _storm(axes, rows: list[dict]) -> None:
    for row in rows:
        points = row["curve"]
        axes.plot([p[0] for p in points], [p[1] for p in points], label=f"{row['target']}, {row['readers']:,}")
    axes.set_xlabel("seconds since the restart")
    axes.set_ylabel("readers back (with every comment saved while down)")
    axes.set_title("Reconnect storm after a daphne restart")


def _soak(axes, row: dict) -> None:
    samples = row["samples"]
    axes.plot([s["seconds"] for s in samples], [s["rss_mb"] for s in samples], marker="o", label="server RSS (MB)")
    axes.set_xlabel("seconds")
    axes.set_ylabel("MB")
    axes.set_title(f"Soak: {row['readers']} readers reconnecting, 2 comments/s")
