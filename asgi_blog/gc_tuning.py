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
"""

from __future__ import annotations

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


def tune_for_long_lived_sockets() -> None:
    # Everything loaded so far lives as long as the process: keep it out of the
    # collector's full passes, which otherwise pause every socket of a busy server.
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    release = heap_release()
    if release is not None and not any(isinstance(callback, ReleaseAfterFullPass) for callback in gc.callbacks):
        gc.callbacks.append(ReleaseAfterFullPass(release))


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
