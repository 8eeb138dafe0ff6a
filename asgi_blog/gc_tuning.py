"""The garbage-collector settings of a server process, in one place.

Applied by asgi_blog/asgi.py once everything is loaded, and by the benchmark's raw
ceilings, so that a ratio to a ceiling measures the app's own work, not a
collector pause that one side has and the other does not.

Every closed socket leaves garbage that only the collector frees: daphne's and
autobahn's objects for a connection refer to each other (about a hundred objects
a socket), and whatever of it was alive at the last pass of the middle generation
waits for a full pass. Readers who come and go (reloads, networks that change)
make a steady stream of it, so full passes must come often enough for memory to
level off (bench/RESULTS.md, the soak row), and the heap pages they free are
handed back to the system after each one.

A crowd of readers arriving at once leaves a full pass due: CPython starts one
once the objects promoted since the last amount to a quarter of those already
old, and thousands of new sockets are that. Left alone, it falls into the first
comment's fan-out and every reader waits for it (a quarter of a second over
5,000 sockets). The QuietCollector makes it as soon as arrivals pause instead,
when no one is waiting for a frame.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
from collections.abc import Callable

# A young generation of 10,000 objects rather than 2,000: what each keepalive ping and
# each broadcast allocates then dies young instead of piling into the older generations.
# The older two keep the default 10. With 50 there, a server whose readers reconnect
# every few seconds ran a full pass about every half hour, and its memory climbed until
# then (300 readers: 80 -> 330 MB in 10 minutes, still rising). A full pass also waits
# until the objects that outlived the young passes since the last one number a quarter
# of those it would examine (CPython's rule), so a crowd of sockets that stay open does
# not start one per comment.
THRESHOLDS = (10_000, 10, 10)

# A wave: this many sockets opened since the last full pass (each leaves about a hundred
# objects in the oldest generation), then this long without a new one.
WAVE_SOCKETS = 1_000
WAVE_QUIET_SECONDS = 0.25


def tune_for_long_lived_sockets() -> None:
    # Everything loaded so far lives as long as the process: keep it out of the
    # collector's full passes, which otherwise pause every socket of a busy server.
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    release = heap_release()
    if release is not None and not any(isinstance(callback, ReleaseAfterFullPass) for callback in gc.callbacks):
        gc.callbacks.append(ReleaseAfterFullPass(release))
    if quiet_collector.after_full_pass not in gc.callbacks:
        gc.callbacks.append(quiet_collector.after_full_pass)


class QuietCollector:
    """Makes the full pass a wave of new sockets has made due in the first quiet moment after it.

    A server calls socket_opened() for each socket it accepts, on its event loop.
    One timer at a time waits for the wave to pause; a full pass made meanwhile for
    any other reason starts the count again.
    """

    def __init__(self) -> None:
        self.opened_since_full_pass = 0
        self.last_opened = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.timer_loop: asyncio.AbstractEventLoop | None = None

    def socket_opened(self) -> None:
        loop = asyncio.get_running_loop()
        self.opened_since_full_pass += 1
        self.last_opened = loop.time()
        waiting = self.timer is not None and self.timer_loop is loop and not self.timer.cancelled()
        if self.opened_since_full_pass >= WAVE_SOCKETS and not waiting:
            self.wait_for_quiet(loop)

    def wait_for_quiet(self, loop: asyncio.AbstractEventLoop) -> None:
        self.timer_loop = loop
        self.timer = loop.call_at(self.last_opened + WAVE_QUIET_SECONDS, self.collect_if_quiet)

    def collect_if_quiet(self) -> None:
        self.timer = None
        if self.opened_since_full_pass < WAVE_SOCKETS:
            return  # the collector made its own full pass meanwhile
        if self.timer_loop.time() < self.last_opened + WAVE_QUIET_SECONDS:
            self.wait_for_quiet(self.timer_loop)  # still arriving
            return
        gc.collect()
        self.opened_since_full_pass = 0  # also where the callback is not installed (tests)

    def after_full_pass(self, phase: str, info: dict) -> None:
        """A gc callback: whoever made the pass, the sockets counted so far have been examined."""
        if phase == "stop" and info["generation"] == 2:
            self.opened_since_full_pass = 0


quiet_collector = QuietCollector()


class ReleaseAfterFullPass:
    """A gc callback: after each full pass, hand the heap's free pages back to the system.

    The freed connections leave holes between live allocations, which malloc keeps
    for reuse; without this the resident size stays at its highest point (about
    30 MB of a soak's 220 MB came back this way).
    """

    def __init__(self, release: Callable[[], object]) -> None:
        self.release = release

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            self.release()


def heap_release() -> Callable[[], object] | None:
    """glibc's malloc_trim(0), or None where the C library has none (musl, macOS)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)
