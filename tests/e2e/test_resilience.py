"""Never miss a comment: Redis quiet, down or restarted empty, a server restarted, a reader that stalls.

Each test starts its own daphne processes (and Redis, where it stops it) on
free ports and stops only those.
"""

from __future__ import annotations

import asyncio
import contextlib
import runpy

import aiohttp
import redis
from channels_redis.core import RedisChannelLayer

from tests.e2e.conftest import (
    DaphneServer,
    create_account,
    csrf_token,
    first_published_post_id,
    logged_in_session,
    receive,
)
from tests.processes import PROJECT_ROOT, TASKS_OK

# The hub compares with the database every 3 seconds; allow for two rounds and a slow machine.
CATCH_UP_SECONDS = 10


class CommentReader:
    """A reader like the page's script: collects comments, and on a lost connection
    reconnects with ?after=<last id seen> (a bounded number of times)."""

    def __init__(self, server: DaphneServer, post_id: int) -> None:
        self.server = server
        self.post_id = post_id
        self.ids: list[int] = []
        self.bodies: list[str] = []
        self.connections = 0
        self.arrived = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> CommentReader:
        self.session = aiohttp.ClientSession()
        self.task = asyncio.create_task(self.read_forever())
        await self.wait_for(lambda: self.connections >= 1)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.session.close()

    async def read_forever(self, attempts: int = 60) -> None:
        for _ in range(attempts):
            after = self.ids[-1] if self.ids else 0
            url = self.server.ws_url(f"/ws/posts/{self.post_id}/comments/?after={after}")
            try:
                async with self.session.ws_connect(url, origin=self.server.origin) as ws:
                    await receive(ws)  # hello
                    self.connections += 1
                    self.arrived.set()
                    async for message in ws:
                        frame = message.json()
                        if frame["type"] == "comment.created":
                            self.ids.append(frame["comment"]["id"])
                            self.bodies.append(frame["comment"]["body"])
                            self.arrived.set()
            except (aiohttp.ClientError, ConnectionError):
                pass
            await asyncio.sleep(0.25)

    async def wait_for(self, condition, within: float = CATCH_UP_SECONDS) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self.arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), 0.2)

    async def wait_for_body(self, body: str, within: float = CATCH_UP_SECONDS) -> None:
        await self.wait_for(lambda: body in self.bodies, within)


async def post_over_http(session: aiohttp.ClientSession, server: DaphneServer, post_id: int, body: str) -> int:
    async with session.post(
        f"{server.base_url}/blog/posts/{post_id}/comments/",
        data={"body": body, "csrfmiddlewaretoken": csrf_token(session)},
        headers={"Accept": "application/json"},
    ) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["comment"]["id"]


async def test_with_redis_down_comments_are_saved_acknowledged_and_still_reach_readers(
    start_daphne, own_redis, server_env
):
    # The default comment rate limit stays on: its budget lives in the Redis that goes down.
    first = start_daphne(REDIS_URL=own_redis.url)
    second = start_daphne(REDIS_URL=own_redis.url)
    post_id = await first_published_post_id(first)
    writer = await logged_in_session(first, create_account(server_env, "outage-writer"))
    try:
        async with (
            CommentReader(second, post_id) as reader,
            writer.ws_connect(first.ws_url(f"/ws/posts/{post_id}/comments/"), origin=first.origin) as writer_ws,
        ):
            await receive(writer_ws)
            own_redis.stop()

            await writer_ws.send_json({"type": "comment.create", "body": "sent over the socket", "client_id": "o1"})
            while (answer := await receive(writer_ws))["type"] != "comment.ack":
                assert answer["type"] != "error", answer
            await post_over_http(writer, first, post_id, "sent over HTTP")

            await reader.wait_for_body("sent over the socket")
            await reader.wait_for_body("sent over HTTP")
            async with writer.get(f"{first.base_url}/blog/posts/{post_id}/") as page:
                assert page.status == 200
            async with writer.get(f"{first.base_url}/healthz") as health:
                assert (health.status, await health.json()) == (
                    503,
                    {**TASKS_OK, "database": "ok", "channel_layer": "down"},
                )

            own_redis.start()
            await post_over_http(writer, first, post_id, "after Redis came back")
            await reader.wait_for_body("after Redis came back")
        assert len(reader.ids) == len(set(reader.ids)), "no comment twice"
    finally:
        await writer.close()


def catch_ups_logged(server: DaphneServer) -> int:
    """How many times the server's hub has handed on comments it found in the database."""
    return server.log_path.read_text(errors="replace").count("catching up post=")


def group_members(redis_url: str, post_id: int) -> int:
    return redis.Redis.from_url(redis_url).zcard(f"asgi:group:post.{post_id}.comments")


async def test_redis_restarted_empty_readers_are_subscribed_again_and_catch_up(start_daphne, own_redis, server_env):
    first = start_daphne(REDIS_URL=own_redis.url)
    second = start_daphne(REDIS_URL=own_redis.url)
    post_id = await first_published_post_id(first)
    writer = await logged_in_session(first, create_account(server_env, "restart-writer"))
    try:
        async with CommentReader(second, post_id) as reader:
            assert group_members(own_redis.url, post_id) == 1
            own_redis.stop()
            own_redis.start()  # empty: it kept nothing on disk
            assert group_members(own_redis.url, post_id) == 0

            await post_over_http(writer, first, post_id, "while the group was forgotten")
            await reader.wait_for_body("while the group was forgotten")
            await reader.wait_for(lambda: group_members(own_redis.url, post_id) == 1)

            # Subscribed again: the next comment comes through the layer, not from a database check,
            # which would log that it caught up before handing the comment on.
            caught_up_before = catch_ups_logged(second)
            await post_over_http(writer, first, post_id, "through the layer again")
            await reader.wait_for_body("through the layer again")
            assert catch_ups_logged(second) == caught_up_before
        assert reader.connections == 1, "the socket was never dropped"
    finally:
        await writer.close()


async def test_a_quiet_redis_layer_keeps_waiting_past_its_blocking_read(private_redis, monkeypatch):
    """redis-py 8 stops reading after 5 s by default, as long as the layer's blocking receive lasts."""
    monkeypatch.setenv("REDIS_URL", private_redis)
    settings_file = PROJECT_ROOT / "asgi_blog" / "settings.py"
    config = runpy.run_path(str(settings_file))["CHANNEL_LAYERS"]["default"]["CONFIG"]
    listener, sender = RedisChannelLayer(**config), RedisChannelLayer(**config)
    channel = await listener.new_channel("hub")
    quiet_seconds = listener.brpop_timeout + 1

    async def send_after_the_quiet() -> None:
        await asyncio.sleep(quiet_seconds)
        await sender.send(channel, {"type": "comment.created", "id": 1})

    sending = asyncio.create_task(send_after_the_quiet())
    try:
        message = await asyncio.wait_for(listener.receive(channel), timeout=quiet_seconds + 5)
        assert message == {"type": "comment.created", "id": 1}
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        await listener.close_pools()
        await sender.close_pools()


async def test_restarted_server_clients_reconnect_and_catch_up(start_daphne, private_redis, server_env):
    first = start_daphne(REDIS_URL=private_redis)
    second = start_daphne(REDIS_URL=private_redis)
    post_id = await first_published_post_id(first)
    writer = await logged_in_session(second, create_account(server_env, "restart-http-writer"))
    try:
        async with CommentReader(first, post_id) as reader:
            await post_over_http(writer, second, post_id, "before the restart")
            await reader.wait_for_body("before the restart")

            first.stop()
            missed = [await post_over_http(writer, second, post_id, f"while down {n}") for n in range(3)]
            first.start()  # same port

            await reader.wait_for(lambda: reader.connections == 2)
            await reader.wait_for(lambda: set(missed) <= set(reader.ids))
            await post_over_http(writer, second, post_id, "after the restart")
            await reader.wait_for_body("after the restart")
        assert reader.ids == sorted(reader.ids), "in order"
        assert len(reader.ids) == len(set(reader.ids)), "none twice"
    finally:
        await writer.close()


async def test_a_stalled_reader_delays_no_one_and_then_catches_up(start_daphne, server_env):
    """A burst of 150 comments to 100 readers, while one more reader reads nothing."""
    server = start_daphne(BLOG_COMMENT_RATE_LIMIT="0")
    post_id = await first_published_post_id(server)
    path = f"/ws/posts/{post_id}/comments/"
    writer = await logged_in_session(server, create_account(server_env, "burst-writer"))
    burst = 150
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as readers_session:
        sockets = [await readers_session.ws_connect(server.ws_url(path), origin=server.origin) for _ in range(101)]
        stalled, active = sockets[0], sockets[1:]
        for ws in sockets:
            await receive(ws)

        async def read_burst(ws) -> list[int]:
            ids = []
            while len(ids) < burst:
                frame = await receive(ws, within=30)
                if frame["type"] == "comment.created":
                    ids.append(frame["comment"]["id"])
            return ids

        readers = [asyncio.create_task(read_burst(ws)) for ws in active]
        async with writer.ws_connect(server.ws_url(path), origin=server.origin) as writer_ws:
            await receive(writer_ws)
            for number in range(burst):
                await writer_ws.send_json({"type": "comment.create", "body": f"burst {number}"})
            received = await asyncio.gather(*readers)

        expected = received[0]
        assert len(expected) == burst and expected == sorted(expected)
        assert all(ids == expected for ids in received), "every active reader got the whole burst, in order"
        assert await read_burst(stalled) == expected, "the stalled reader catches up"
        for ws in sockets:
            await ws.close()
    await writer.close()
