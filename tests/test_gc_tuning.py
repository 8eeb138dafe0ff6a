"""The server's collector settings: full passes often enough, and freed heap pages handed back."""

from __future__ import annotations

import gc

import pytest

from asgi_blog.gc_tuning import THRESHOLDS, ReleaseAfterFullPass, heap_release, tune_for_long_lived_sockets


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


def test_the_release_runs_the_c_librarys_trim():
    """malloc_trim(0) answers 1 when it gave memory back, 0 when there was none: either is a call that ran."""
    assert heap_release()() in (0, 1)
