"""blog.slots: at most `capacity` holders at once, exact across processes, freeing themselves on expiry."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from blog import slots
from blog.process_cache import cache
from blog.slots import (
    Slot,
    aslot_release,
    aslot_renew,
    aslot_take,
    aslots_free_in,
    slot_release,
    slot_renew,
    slot_take,
    slots_free_in,
)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_clock(monkeypatch):
    """The clock of the stored expiry times; the cache's own expiry still runs on real time."""
    fake = FakeClock(1_000_000.0)
    monkeypatch.setattr(slots, "clock", fake)
    return fake


def take_all(name: str, capacity: int, seconds: float = 60) -> list[Slot]:
    taken = [slot_take(name=name, capacity=capacity, seconds=seconds) for _ in range(capacity)]
    assert all(slot is not None for slot in taken)
    return taken


def test_no_more_than_capacity_holders():
    take_all("room", 3)
    assert slot_take(name="room", capacity=3, seconds=60) is None


def test_names_do_not_share_slots():
    take_all("room", 2)
    assert slot_take(name="other-room", capacity=2, seconds=60) is not None


def test_a_released_slot_can_be_taken_again():
    first, _ = take_all("room", 2)
    slot_release(first)
    again = slot_take(name="room", capacity=2, seconds=60)
    assert again is not None
    assert again.key == first.key
    assert slot_take(name="room", capacity=2, seconds=60) is None


def test_a_slot_frees_itself_when_its_hold_expires():
    """A holder that dies without releasing stops counting once its seconds are over."""
    take_all("room", 1, seconds=1)
    assert slot_take(name="room", capacity=1, seconds=1) is None
    deadline = time.monotonic() + 5
    while (slot := slot_take(name="room", capacity=1, seconds=1)) is None:
        assert time.monotonic() < deadline, "the slot never expired"
        time.sleep(0.05)
    assert slot is not None


def test_concurrent_takers_never_share_a_slot():
    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = list(pool.map(lambda _: slot_take(name="race", capacity=5, seconds=60), range(40)))
    held = [slot for slot in taken if slot is not None]
    assert len(held) == 5
    assert len({slot.key for slot in held}) == 5


def test_a_slot_taken_after_the_look_up_is_not_taken_twice(monkeypatch):
    """Another process may take a slot between get_many and add: add() alone decides."""
    take_all("room", 2)
    monkeypatch.setattr(cache, "get_many", lambda keys: {})  # a look-up from just before they were taken
    assert slot_take(name="room", capacity=2, seconds=60) is None


def test_a_take_skips_held_slots_without_trying_them(monkeypatch):
    """get_many first: with 9 of 10 slots held a take costs one add(), not ten."""
    take_all("room", 9)
    real_add = cache.add
    adds = []

    def counting_add(*args, **kwargs):
        adds.append(args[0])
        return real_add(*args, **kwargs)

    monkeypatch.setattr(cache, "add", counting_add)
    slot = slot_take(name="room", capacity=10, seconds=60)
    assert slot is not None
    assert adds == ["room:9"]


def test_free_in_is_zero_while_a_slot_is_free(fake_clock):
    take_all("room", 1)
    assert slots_free_in(name="room", capacity=2) == 0.0


def test_free_in_counts_down_to_the_earliest_expiry(fake_clock):
    slot_take(name="room", capacity=2, seconds=30)
    fake_clock.now += 10
    slot_take(name="room", capacity=2, seconds=30)
    fake_clock.now += 5
    assert slots_free_in(name="room", capacity=2) == pytest.approx(15.0)


def test_a_hold_is_rounded_up_to_whole_seconds(fake_clock):
    """Redis expires keys in whole seconds: never let the stored expiry promise a free slot too early."""
    slot = slot_take(name="room", capacity=1, seconds=0.2)
    assert slot.expires_at == fake_clock.now + 1


def test_renew_extends_the_hold(fake_clock):
    slot = slot_take(name="room", capacity=1, seconds=10)
    fake_clock.now += 8
    slot_renew(slot, seconds=10)
    assert slot.expires_at == fake_clock.now + 10
    assert slots_free_in(name="room", capacity=1) == pytest.approx(10.0)
    assert cache.get(slot.key) == slot.expires_at


def test_renew_takes_back_an_expired_slot_that_is_still_free():
    slot = slot_take(name="room", capacity=1, seconds=60)
    cache.delete(slot.key)  # what expiry does
    slot_renew(slot, seconds=60)
    assert slot_take(name="room", capacity=1, seconds=60) is None


def test_a_lost_slot_is_left_to_its_new_holder():
    """A holder that missed its renewal must not free or overwrite the next holder's slot."""
    stale = slot_take(name="room", capacity=1, seconds=60)
    cache.delete(stale.key)  # expired
    current = slot_take(name="room", capacity=1, seconds=60)
    slot_renew(stale, seconds=60)
    slot_release(stale)
    assert cache.get(current.key) == current.expires_at
    assert slot_take(name="room", capacity=1, seconds=60) is None


def test_bad_capacity_or_seconds_is_a_clear_error():
    with pytest.raises(ValueError, match="capacity"):
        slot_take(name="room", capacity=0, seconds=60)
    with pytest.raises(ValueError, match="seconds"):
        slot_take(name="room", capacity=1, seconds=0)


async def test_async_twins_hold_the_same_slots(fake_clock):
    first = await aslot_take(name="room", capacity=2, seconds=30)
    second = slot_take(name="room", capacity=2, seconds=30)
    assert first is not None and second is not None
    assert await aslot_take(name="room", capacity=2, seconds=30) is None
    assert await aslots_free_in(name="room", capacity=2) == pytest.approx(30.0)

    fake_clock.now += 20
    await aslot_renew(first, seconds=30)
    assert await aslots_free_in(name="room", capacity=2) == pytest.approx(10.0)

    await aslot_release(second)
    assert await aslots_free_in(name="room", capacity=2) == 0.0
    assert await aslot_take(name="room", capacity=2, seconds=30) is not None
