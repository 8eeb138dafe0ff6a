"""The server's collector settings: full passes often enough, out of readers' way, and freed heap pages handed back."""

from __future__ import annotations

import asyncio
import gc

import pytest

from asgi_blog import gc_tuning
from asgi_blog.gc_tuning import (
    THRESHOLDS,
    QuietCollector,
    ReleaseAfterFullPass,
    heap_release,
    tune_for_long_lived_sockets,
)

WAVE = 5
QUIET_SECONDS = 0.05


@pytest.fixture
def restored_collector():
    thresholds, callbacks = gc.get_threshold(), list(gc.callbacks)
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.callbacks[:] = callbacks


def test_only_a_full_pass_hands_freed_heap_pages_back(restored_collector):
    releases = []
    gc.callbacks.append(ReleaseAfterFullPass(lambda: releases.append("released")))
    gc.collect(0)
    gc.collect(1)
    assert releases == []
    gc.collect(2)
    assert releases == ["released"]


def test_the_server_tuning_registers_the_release_once(restored_collector):
    assert heap_release() is not None, "this platform's C library (glibc) has malloc_trim"
    tune_for_long_lived_sockets()
    tune_for_long_lived_sockets()
    assert gc.get_threshold() == THRESHOLDS
    assert sum(isinstance(callback, ReleaseAfterFullPass) for callback in gc.callbacks) == 1
    assert gc.callbacks.count(gc_tuning.quiet_collector.after_full_pass) == 1


def test_the_release_runs_the_c_librarys_trim():
    """malloc_trim(0) answers 1 when it gave memory back, 0 when there was none: either is a call that ran."""
    assert heap_release()() in (0, 1)


class FullPasses:
    """Counts the collector's full passes, and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.count = 0
        self.loop = asyncio.get_running_loop()
        self.made = asyncio.Event()

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            self.count += 1
            self.loop.call_soon(self.made.set)  # the pass may run on another thread


@pytest.fixture
def small_waves(monkeypatch, restored_collector):
    monkeypatch.setattr(gc_tuning, "WAVE_SOCKETS", WAVE)
    monkeypatch.setattr(gc_tuning, "WAVE_QUIET_SECONDS", QUIET_SECONDS)
    collector = QuietCollector()
    gc.callbacks.append(collector.after_full_pass)
    return collector


@pytest.fixture
async def full_passes(restored_collector):
    passes = FullPasses()
    gc.callbacks.append(passes)
    return passes


async def test_a_wave_of_new_sockets_gets_its_full_pass_once_arrivals_pause(small_waves, full_passes):
    for _ in range(WAVE):
        small_waves.socket_opened()
    assert full_passes.count == 0, "not while sockets are still arriving"
    await asyncio.wait_for(full_passes.made.wait(), timeout=5)
    assert full_passes.count == 1 and small_waves.opened_since_full_pass == 0


async def test_no_full_pass_while_sockets_keep_arriving(small_waves, full_passes):
    for _ in range(WAVE):
        small_waves.socket_opened()
    for _ in range(4):
        await asyncio.sleep(QUIET_SECONDS / 2)
        small_waves.socket_opened()
    assert full_passes.count == 0
    await asyncio.wait_for(full_passes.made.wait(), timeout=5)
    assert full_passes.count == 1


async def test_fewer_sockets_than_a_wave_leave_the_collector_alone(small_waves, full_passes):
    for _ in range(WAVE - 1):
        small_waves.socket_opened()
    assert small_waves.timer is None, "no timer for every socket of a quiet server"
    await asyncio.sleep(QUIET_SECONDS * 4)
    assert full_passes.count == 0


async def test_a_full_pass_made_meanwhile_counts_for_the_wave(small_waves, full_passes):
    for _ in range(WAVE):
        small_waves.socket_opened()
    gc.collect()
    assert small_waves.opened_since_full_pass == 0
    await asyncio.sleep(QUIET_SECONDS * 4)
    assert full_passes.count == 1, "the wave's own pass was not made again"
