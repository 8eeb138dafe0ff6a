"""At most `capacity` holders of a name at once, each for a few seconds, across all processes.

A slot is the cache key f"{name}:{i}" for i in range(capacity), taken with
cache.add(), which is atomic (SET NX on Redis, a lock in the local-memory
cache): two processes can never hold the same slot, and a slot whose holder
dies frees itself when its key expires. The value stored is the slot's expiry
time (wall clock, so every process reads it the same way); it answers "how
long until a slot frees" and tells a holder whether the slot is still its own.

Django's Redis cache expires keys in whole seconds, so a hold is rounded up
to whole seconds: a slot may be held a little longer than asked, never less.
That keeps a budget built on slots exact ("no more than capacity takes in any
span of `seconds`") at the cost of a little slack.

Errors of the cache (Redis down) are not caught here: each caller decides
whether a missing cache means "allow" or "refuse".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from blog.process_cache import cache

# The clock the stored expiry times use; tests replace it to read the expiry arithmetic without sleeping.
clock: Callable[[], float] = time.time


@dataclass
class Slot:
    key: str
    expires_at: float  # as stored under key while this holder has it


def slot_take(*, name: str, capacity: int, seconds: float) -> Slot | None:
    """Take the first free slot of `name` for `seconds`, or None when all `capacity` are held."""
    keys = _slot_keys(name, capacity)
    held = cache.get_many(keys)
    hold = _hold_seconds(seconds)
    for key in keys:
        if key in held:
            continue
        expires_at = clock() + hold
        # Another process may have taken it since get_many: add() settles that.
        if cache.add(key, expires_at, timeout=hold):
            return Slot(key=key, expires_at=expires_at)
    return None


def slot_renew(slot: Slot, *, seconds: float) -> None:
    """Hold `slot` for another `seconds` from now.

    A slot that already expired is taken again if it is still free; one that
    expired and went to another holder is left to that holder, and this one
    no longer holds anything (its release will then do nothing).
    """
    hold = _hold_seconds(seconds)
    expires_at = clock() + hold
    stored = cache.get(slot.key)
    if stored == slot.expires_at:
        cache.set(slot.key, expires_at, timeout=hold)
    elif stored is not None or not cache.add(slot.key, expires_at, timeout=hold):
        return  # another holder has it now
    slot.expires_at = expires_at


def slot_release(slot: Slot) -> None:
    """Free `slot` now, unless it already expired and went to another holder."""
    if cache.get(slot.key) == slot.expires_at:
        cache.delete(slot.key)


def slots_free_in(*, name: str, capacity: int) -> float:
    """Seconds until a slot of `name` is free: 0 when one is free now."""
    return _free_in(cache.get_many(_slot_keys(name, capacity)), capacity)


async def aslot_take(*, name: str, capacity: int, seconds: float) -> Slot | None:
    """slot_take for async callers."""
    keys = _slot_keys(name, capacity)
    held = await cache.aget_many(keys)
    hold = _hold_seconds(seconds)
    for key in keys:
        if key in held:
            continue
        expires_at = clock() + hold
        if await cache.aadd(key, expires_at, timeout=hold):
            return Slot(key=key, expires_at=expires_at)
    return None


async def aslot_renew(slot: Slot, *, seconds: float) -> None:
    """slot_renew for async callers."""
    hold = _hold_seconds(seconds)
    expires_at = clock() + hold
    stored = await cache.aget(slot.key)
    if stored == slot.expires_at:
        await cache.aset(slot.key, expires_at, timeout=hold)
    elif stored is not None or not await cache.aadd(slot.key, expires_at, timeout=hold):
        return  # another holder has it now
    slot.expires_at = expires_at


async def aslot_release(slot: Slot) -> None:
    """slot_release for async callers."""
    if await cache.aget(slot.key) == slot.expires_at:
        await cache.adelete(slot.key)


async def aslots_free_in(*, name: str, capacity: int) -> float:
    """slots_free_in for async callers."""
    return _free_in(await cache.aget_many(_slot_keys(name, capacity)), capacity)


def _slot_keys(name: str, capacity: int) -> list[str]:
    if capacity < 1:
        # A capacity of 0 would refuse everyone; callers treat 0 as "no limit" before asking.
        raise ValueError(f"capacity must be at least 1, not {capacity!r}.")
    return [f"{name}:{i}" for i in range(capacity)]


def _hold_seconds(seconds: float) -> int:
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, not {seconds!r}.")
    return math.ceil(seconds)


def _free_in(held: dict[str, float], capacity: int) -> float:
    if len(held) < capacity:
        return 0.0
    return max(0.0, min(held.values()) - clock())
