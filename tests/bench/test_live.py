"""The benchmark's reconnecting reader waits as the page script does, and a run with a loss fails."""

from __future__ import annotations

import asyncio
import random

import aiohttp
import pytest

from bench import goals
from bench.live import MAX_RETRY_SECONDS, Goal, backoff_seconds, try_again_seconds


@pytest.mark.parametrize(("failures", "base"), [(1, 0.5), (2, 1.0), (3, 2.0), (6, MAX_RETRY_SECONDS), (20, 15.0)])
def test_backoff_doubles_from_half_a_second_to_fifteen_with_jitter_over_the_upper_half(failures, base):
    random.seed(failures)
    delays = [backoff_seconds(failures) for _ in range(200)]
    assert min(delays) >= base / 2 and max(delays) <= base
    assert max(delays) - min(delays) > base / 4  # jittered, not one fixed delay


def test_try_again_later_waits_the_seconds_in_the_close_reason_plus_up_to_a_fifth():
    delays = [try_again_seconds("4") for _ in range(200)]
    assert min(delays) >= 4 and max(delays) <= 4.8


def test_try_again_later_with_an_unreadable_reason_still_waits():
    assert try_again_seconds("soon") > 0


class FakeReader:
    def __init__(self, hello_at: float | None, seen: set[int]) -> None:
        self.hello_at, self.seen = hello_at, seen


def test_a_reader_is_back_only_after_a_new_hello_with_every_comment_saved_while_down():
    async def scenario() -> Goal:
        goal = Goal(2, {7, 8}, since=100.0)
        early = FakeReader(hello_at=99.0, seen={7, 8})  # its hello is from before the restart
        missing = FakeReader(hello_at=101.0, seen={7})
        for reader in (early, missing):
            goal.check(reader)
        assert not goal.done
        missing.seen.add(8)
        goal.check(missing)
        return goal

    goal = asyncio.run(scenario())
    assert len(goal.done) == 1 and not goal.reached.is_set()


def test_a_run_that_lost_a_comment_fails():
    row = {"target": "app", "readers": 10, "delivered": 199, "expected": 200}
    assert goals.broken({"fan_out": [row]}) == ["fan-out app 10: 199/200 delivered"]
    assert goals.broken({"fan_out": [{**row, "delivered": 200}]}) == []


def test_a_reader_told_to_try_again_later_waits_then_resumes_after_the_last_comment_it_saw():
    """A 1013 close is retried after the seconds in its reason, not taken for a lost socket."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from bench.live import Counters, LiveReader

    queries: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        queries.append(dict(request.query))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if len(queries) == 1:
            await ws.send_str('{"type":"comment.created","comment":{"id":41}}')
            await ws.close(code=1013, message=b"0.3")
        else:
            await ws.send_str('{"type":"hello","user":null}')
            await ws.receive()
        return ws

    async def scenario() -> tuple[LiveReader, float]:
        app = web.Application()
        app.router.add_get("/", handler)
        async with TestServer(app) as server, aiohttp.ClientSession() as session:
            reader = LiveReader(session, str(server.make_url("/")), "http://localhost", Counters())
            started = asyncio.get_running_loop().time()
            reader.goal = Goal(1, set(), since=0.0)
            task = reader.start()
            async with asyncio.timeout(5):
                await reader.goal.reached.wait()
            waited = asyncio.get_running_loop().time() - started
            await reader.stop()
            task.cancel()
            return reader, waited

    reader, waited = asyncio.run(scenario())
    assert reader.counters.try_again_later == 1 and reader.counters.unexpected_closes == 0
    assert waited >= 0.3
    assert queries[1]["after"] == "41"
