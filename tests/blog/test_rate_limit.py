"""The write budget slides: never more than N writes in any S-second span, wherever the clock stands."""

from __future__ import annotations

import logging
import time

import pytest
from django.test import override_settings

from blog import slots
from blog.process_cache import cache
from blog.rate_limit import RateLimited, write_budget_spend


def spend(times: int, user_id: int = 1) -> None:
    for _ in range(times):
        write_budget_spend(user_id=user_id)


@override_settings(BLOG_COMMENT_RATE_LIMIT=(3, 60))
@pytest.mark.parametrize("seconds_before_the_minute", [30.0, 0.01], ids=["mid-minute", "at-the-minute"])
def test_the_budget_does_not_refill_on_the_clock_minute(monkeypatch, seconds_before_the_minute):
    """Spend the budget just before a minute starts: the next write, just after it, is still refused.

    A window counted per clock minute would let 3 more writes through the moment the minute turns.
    """
    real_time = time.time
    now = real_time()
    offset = (now // 60 + 1) * 60 - seconds_before_the_minute - now
    monkeypatch.setattr(time, "time", lambda: real_time() + offset)
    spend(3)
    offset += 0.02  # past the minute when the budget was spent just before it
    with pytest.raises(RateLimited):
        write_budget_spend(user_id=1)


@override_settings(BLOG_COMMENT_RATE_LIMIT=(3, 2))
def test_the_next_write_is_refused_at_once_and_accepted_when_the_oldest_expires():
    spend(3)
    with pytest.raises(RateLimited) as refused:
        write_budget_spend(user_id=1)
    assert refused.value.retry_after == 2
    deadline = time.monotonic() + 5
    while True:
        try:
            write_budget_spend(user_id=1)
            break
        except RateLimited:
            assert time.monotonic() < deadline, "the budget never came back"
            time.sleep(0.05)


@override_settings(BLOG_COMMENT_RATE_LIMIT=(2, 60))
def test_retry_after_counts_to_when_the_oldest_write_leaves_the_window(monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(slots, "clock", lambda: clock[0])
    write_budget_spend(user_id=1)
    clock[0] += 10
    write_budget_spend(user_id=1)
    clock[0] += 5
    with pytest.raises(RateLimited) as refused:
        write_budget_spend(user_id=1)
    assert refused.value.retry_after == 45


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_each_user_has_a_budget_of_their_own():
    write_budget_spend(user_id=1)
    write_budget_spend(user_id=2)
    with pytest.raises(RateLimited):
        write_budget_spend(user_id=1)


@override_settings(BLOG_COMMENT_RATE_LIMIT=None)
def test_no_budget_when_the_limit_is_off():
    spend(50)


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_writes_are_allowed_and_logged_while_the_cache_is_down(monkeypatch, caplog):
    def cache_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get_many", cache_down)
    monkeypatch.setattr(cache, "add", cache_down)
    with caplog.at_level(logging.WARNING, logger="blog.rate_limit"):
        spend(3)
    assert "write budget unavailable" in caplog.text
