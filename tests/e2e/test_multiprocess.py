"""Two daphne processes sharing PostgreSQL or SQLite and a Redis server of the test's own."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from tests.e2e.conftest import create_account, csrf_token, first_published_post_id, logged_in_session, receive
from tests.processes import TASKS_OK


@pytest.fixture
def two_servers(start_daphne, private_redis):
    env = {"REDIS_URL": private_redis, "BLOG_COMMENT_RATE_LIMIT": "2/60"}
    return start_daphne(**env), start_daphne(**env)


async def test_comment_through_one_process_reaches_a_reader_on_the_other(two_servers, server_env):
    first, second = two_servers
    post_id = await first_published_post_id(first)
    writer = await logged_in_session(first, create_account(server_env, "fanout-writer"))
    try:
        async with (
            aiohttp.ClientSession() as anonymous,
            anonymous.ws_connect(second.ws_url(f"/ws/posts/{post_id}/comments/"), origin=second.origin) as reader,
            writer.ws_connect(first.ws_url(f"/ws/posts/{post_id}/comments/"), origin=first.origin) as writer_ws,
        ):
            await receive(reader), await receive(writer_ws)
            await writer_ws.send_json({"type": "comment.create", "body": "Across processes"})
            created = await receive(reader)
        assert created["comment"]["body"] == "Across processes"
    finally:
        await writer.close()


async def test_the_comment_budget_is_shared_by_both_processes(two_servers, server_env):
    first, second = two_servers
    post_id = await first_published_post_id(first)
    username = create_account(server_env, "budget-writer")
    on_first = await logged_in_session(first, username)
    on_second = await logged_in_session(second, username)
    try:
        answers = []
        for number, session, server in [(1, on_first, first), (2, on_second, second), (3, on_first, first)]:
            async with session.post(
                f"{server.base_url}/blog/posts/{post_id}/comments/",
                data={"body": f"comment {number}", "csrfmiddlewaretoken": csrf_token(session)},
                headers={"Accept": "application/json"},
            ) as response:
                answers.append(response.status)
        assert answers == [201, 201, 429]
    finally:
        await on_first.close()
        await on_second.close()


async def test_logout_on_one_process_is_pushed_to_a_socket_on_the_other(two_servers, server_env):
    first, second = two_servers
    post_id = await first_published_post_id(first)
    username = create_account(server_env, "revoked-writer")
    browser = await logged_in_session(first, username)
    try:
        async with browser.ws_connect(
            second.ws_url(f"/ws/posts/{post_id}/comments/"), origin=second.origin
        ) as socket_on_second:
            assert (await receive(socket_on_second))["user"] == username
            async with browser.post(
                f"{first.base_url}/accounts/logout/", data={"csrfmiddlewaretoken": csrf_token(browser)}
            ) as response:
                assert response.status == 200
            # Nothing was written on this socket, so only the push can end its session: a generous
            # bound for a loaded machine still proves it.
            assert await receive(socket_on_second, within=10) == {"type": "session.ended"}
    finally:
        await browser.close()


async def test_a_session_signed_out_on_one_process_loses_its_socket_on_the_other(two_servers, server_env):
    first, second = two_servers
    post_id = await first_published_post_id(first)
    username = create_account(server_env, "lost-phone")
    phone = await logged_in_session(second, username)
    laptop = await logged_in_session(first, username)
    try:
        async with phone.ws_connect(
            second.ws_url(f"/ws/posts/{post_id}/comments/"), origin=second.origin
        ) as phone_socket:
            assert (await receive(phone_socket))["user"] == username
            async with laptop.get(f"{first.base_url}/accounts/sessions/") as page:
                listed = re.findall(r'data-session-id="([^"]+)"', await page.text())
                current = re.search(r'session-current" data-session-id="([^"]+)"', await page.text()).group(1)
            [phone_id] = [session_id for session_id in listed if session_id != current]
            async with laptop.post(
                f"{first.base_url}/accounts/sessions/{phone_id}/end/",
                data={"csrfmiddlewaretoken": csrf_token(laptop)},
            ) as response:
                assert response.status == 200  # after the redirect back to the list
            assert await receive(phone_socket, within=10) == {"type": "session.ended"}
    finally:
        await phone.close()
        await laptop.close()


async def test_deactivation_in_a_shell_is_pushed_to_a_socket_on_a_server(two_servers, server_env):
    """A plain save in a third process (manage.py shell) reaches a reading socket on the second server."""
    first, second = two_servers
    post_id = await first_published_post_id(first)
    username = create_account(server_env, "deactivated-reader")
    browser = await logged_in_session(first, username)
    script = (
        "from blog.models import User; "
        f"user = User.objects.get(username={username!r}); "
        "user.is_active = False; "
        "user.save()"
    )
    try:
        async with browser.ws_connect(
            second.ws_url(f"/ws/posts/{post_id}/comments/"), origin=second.origin
        ) as socket_on_second:
            assert (await receive(socket_on_second))["user"] == username
            # The shell shares the servers' database and Redis (REDIS_URL is in their environment).
            await asyncio.to_thread(first.manage, "shell", "--no-imports", "-c", script)
            assert await receive(socket_on_second, within=10) == {"type": "session.ended"}
    finally:
        await browser.close()


async def presence_frames_until(ws, readers: int, within: float = 10) -> None:
    async with asyncio.timeout(within):
        while True:
            frame = await ws.receive_json()
            if frame == {"type": "presence", "readers": readers}:
                return


async def test_readers_are_counted_across_processes(two_servers):
    first, second = two_servers
    post_id = await first_published_post_id(first)
    path = f"/ws/posts/{post_id}/comments/"
    async with aiohttp.ClientSession() as anonymous:
        on_first = await anonymous.ws_connect(first.ws_url(path), origin=first.origin)
        on_second = await anonymous.ws_connect(second.ws_url(path), origin=second.origin)
        await presence_frames_until(on_first, readers=2)
        await presence_frames_until(on_second, readers=2)
        await on_second.close()
        await presence_frames_until(on_first, readers=1)
        await on_first.close()


async def test_fan_out_gives_every_reader_on_both_processes_each_comment_once_and_other_posts_nothing(
    two_servers, server_env
):
    first, second = two_servers
    async with aiohttp.ClientSession() as anonymous, anonymous.get(f"{first.base_url}/blog/") as page:
        post_ids = [int(found) for found in re.findall(r'href="/blog/posts/(\d+)/"', await page.text())]
    post_id, other_post_id = post_ids[0], post_ids[1]
    writer = await logged_in_session(first, create_account(server_env, "fanout-checker"))
    try:
        async with aiohttp.ClientSession() as anonymous:

            async def open_readers(server, post, count):
                url = server.ws_url(f"/ws/posts/{post}/comments/")
                sockets = [await anonymous.ws_connect(url, origin=server.origin) for _ in range(count)]
                for ws in sockets:
                    await receive(ws)
                return sockets

            readers = [*await open_readers(first, post_id, 3), *await open_readers(second, post_id, 3)]
            elsewhere = [*await open_readers(first, other_post_id, 2), *await open_readers(second, other_post_id, 2)]
            async with writer.ws_connect(first.ws_url(f"/ws/posts/{post_id}/comments/"), origin=first.origin) as ws:
                await receive(ws)
                for number in range(2):  # the servers' budget: 2 comments a minute
                    await ws.send_json({"type": "comment.create", "body": f"once {number}"})

                for reader in readers:
                    bodies = [(await receive(reader))["comment"]["body"] for _ in range(2)]
                    assert bodies == ["once 0", "once 1"]
                for reader in readers + elsewhere:
                    with pytest.raises(TimeoutError):
                        await receive(reader, within=0.5)
            for reader in readers + elsewhere:
                await reader.close()
    finally:
        await writer.close()


async def test_the_health_check_stays_green_on_redis_while_readers_are_connected(two_servers):
    """The hub is always reading the process's channels; the check must not queue behind it."""
    first, _ = two_servers
    post_id = await first_published_post_id(first)
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(first.ws_url(f"/ws/posts/{post_id}/comments/"), origin=first.origin) as reader,
    ):
        await receive(reader)
        statuses = []
        for _ in range(3):
            async with client.get(f"{first.base_url}/healthz") as response:
                statuses.append((response.status, await response.json()))
    assert statuses == [(200, {"database": "ok", "channel_layer": "ok", **TASKS_OK})] * 3


async def test_a_notification_reaches_the_users_socket_on_the_other_process(two_servers, server_env):
    """Made by a comment saved through one process, pushed to the bell's socket on the other."""
    first, second = two_servers
    post_id = await first_published_post_id(first)
    named = create_account(server_env, "named-reader")
    writer = await logged_in_session(first, create_account(server_env, "naming-writer"))
    reader = await logged_in_session(second, named)
    try:
        async with (
            reader.ws_connect(second.ws_url("/ws/notifications/"), origin=second.origin) as bell,
            writer.ws_connect(first.ws_url(f"/ws/posts/{post_id}/comments/"), origin=first.origin) as writer_ws,
        ):
            assert (await receive(bell))["unread"] == 0
            await receive(writer_ws)
            await writer_ws.send_json({"type": "comment.create", "body": f"What do you think, @{named}?"})
            while (ack := await receive(writer_ws))["type"] != "comment.ack":
                pass
            notification = await receive(bell)
        assert notification["type"] == "notification"
        assert notification["unread"] == 1
        assert notification["notification"]["kind"] == "mention"
        assert notification["notification"]["comment"] == ack["id"]
        assert notification["notification"]["actor"] == "naming-writer"
    finally:
        await writer.close()
        await reader.close()
