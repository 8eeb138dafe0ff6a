"""What a handshake and a frame cost: queries, and hops to the one thread all database work queues on.

Every hop waits behind every other socket's, so a handshake storm is as slow as
the number of hops per handshake; these tests pin the numbers down.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from blog.comments import services as comment_services
from blog.process_cache import cache
from realtime.consumers import MESSAGE_NOT_JSON
from tests.factories import make_comment
from tests.realtime.thread_hops import tables_queried

pytestmark = pytest.mark.django_db(transaction=True)


# blog/page_cache.py's calls to a cache outside the process (Redis): run on a worker thread.
CACHE_CALLS = {"cached_post_and.<locals>.read", "partial"}


async def warm_hub(sockets, post) -> None:
    """A first reader: the hub's own work for a post it does not watch yet is not the handshake's.

    It also caches the post for anonymous readers, which is forgotten here: the next handshake
    is measured as the first reader after a change of the post would find it.
    """
    await sockets.connect(post.pk)
    await sync_to_async(cache.clear)()


async def test_an_anonymous_reader_without_a_session_cookie_costs_one_query_in_one_hop(sockets, post, hops):
    await warm_hub(sockets, post)
    hops.reset()
    async with tables_queried() as tables:
        hops.reset()  # entering the capture hopped
        socket = await sockets.handshake(post.pk)
        connected, _ = await socket.connect()
        assert connected
        assert (await socket.receive_json_from())["type"] == "hello"
        handshake_hops = list(hops.on_database_thread)
    # The post, read with its visibility; no session read, no permission read.
    assert tables == ["blog_post"]
    assert handshake_hops == ["post_and_rights"]
    # With Redis, the cached post is looked up (and then stored) off the database thread.
    assert set(hops.elsewhere) <= CACHE_CALLS


async def test_a_logged_in_reader_costs_six_queries_in_two_hops_to_the_database_thread(sockets, post, reader, hops):
    """Session row, user, the user's and their groups' permissions (read once for both checks), the post,
    and their unread notifications (the bell's count, in the same hop)."""
    await warm_hub(sockets, post)
    socket = await sockets.handshake(post.pk, user=reader)
    hops.reset()
    async with tables_queried() as tables:
        hops.reset()
        connected, _ = await socket.connect()
        assert connected
        hello = await socket.receive_json_from()
        handshake_hops = list(hops.on_database_thread)
    assert hello["user"] == "reader"
    assert tables == [
        "django_session",
        "blog_user",
        "auth_permission",  # the user's own permissions
        "auth_permission",  # their groups'
        "blog_post",
        "blog_notification",
    ]
    assert handshake_hops == ["read_session", "post_and_rights"]
    # The per-user socket cap's slot, in one call off the database thread.
    assert hops.elsewhere == ["slot_take"]


async def test_a_resuming_reader_reads_both_backlogs_in_one_more_hop(sockets, post, author, hops):
    comment = await sync_to_async(make_comment)(post, author, body="missed")
    await warm_hub(sockets, post)
    hops.reset()
    socket = await sockets.handshake(post.pk, query="after=0&changes_after=0")
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "hello"
    assert (await socket.receive_json_from())["comment"]["id"] == comment.pk
    assert hops.on_database_thread == ["post_and_rights", "read_backlog"]


async def test_a_pong_and_a_bad_frame_make_no_hop_to_the_database_thread(sockets, post, reader, hops):
    """Channels hops to the database thread before every message; the consumer does not."""
    socket, _ = await sockets.connect(post.pk, user=reader)
    hops.reset()
    await socket.send_json_to({"type": "pong", "token": "no ping of this socket"})
    await socket.send_to(text_data="{not json")
    # Frames are handled in order: when the answer to the second arrives, both were handled.
    error = await socket.receive_json_from()
    assert (error["code"], error["message"]) == ("bad_request", MESSAGE_NOT_JSON)
    assert hops.on_database_thread == hops.elsewhere == []


async def test_client_frames_are_read_without_a_task_each(sockets, post, monkeypatch):
    """Channels' await_many_dispatch runs every receive() as a task of its own; the consumer reads directly."""
    socket, _ = await sockets.connect(post.pk)
    loop = asyncio.get_running_loop()
    tasks_started = []
    create_task = loop.create_task
    monkeypatch.setattr(
        loop, "create_task", lambda *args, **kwargs: tasks_started.append(args) or create_task(*args, **kwargs)
    )
    for _ in range(5):
        await socket.send_to(text_data="{not json")
    for _ in range(5):
        assert (await socket.receive_json_from())["code"] == "bad_request"
    assert tasks_started == []


async def test_a_reader_leaving_makes_no_hop_to_the_database_thread(sockets, post, hops):
    socket, _ = await sockets.connect(post.pk)
    hops.reset()
    await socket.disconnect()
    assert hops.on_database_thread == hops.elsewhere == []


async def test_an_anonymous_reader_of_a_post_the_pages_cached_costs_nothing(sockets, post, hops, async_client):
    """A crowd of anonymous readers arriving from a link finds the post in the cache the page filled."""
    await warm_hub(sockets, post)
    assert (await async_client.get(post.get_absolute_url())).status_code == 200  # caches the post
    async with tables_queried() as tables:
        hops.reset()
        socket = await sockets.handshake(post.pk)
        connected, _ = await socket.connect()
        assert connected
        assert (await socket.receive_json_from())["type"] == "hello"
        handshake_hops = list(hops.on_database_thread)
    assert tables == []
    assert handshake_hops == []


async def test_the_first_anonymous_reader_caches_the_post_for_the_next(sockets, post, hops):
    await warm_hub(sockets, post)
    await sockets.connect(post.pk)  # an anonymous reader: reads the post, and caches it
    async with tables_queried() as tables:
        hops.reset()
        socket = await sockets.handshake(post.pk)
        connected, _ = await socket.connect()
        assert connected
        handshake_hops = list(hops.on_database_thread)
    assert (tables, handshake_hops) == ([], [])


async def test_a_reader_resuming_from_the_newest_the_process_handed_on_reads_no_backlog(sockets, post, author, hops):
    """A page loaded just now resumes from the newest comment: what comes after reaches it live, with no read."""
    watcher = await sockets.connect(post.pk)
    seen = await sync_to_async(comment_services.comment_post)(post=post, author=author, body="on the page")
    assert (await watcher[0].receive_json_from())["comment"]["id"] == seen.comment.pk  # handed on by the hub
    hops.reset()
    socket, _ = await sockets.connect(post.pk, query=f"after={seen.comment.pk}&changes_after=0")
    assert "read_backlog" not in hops.on_database_thread
    later = await sync_to_async(comment_services.comment_post)(post=post, author=author, body="after the page")
    assert (await socket.receive_json_from())["comment"]["id"] == later.comment.pk


async def test_a_reader_behind_what_the_process_handed_on_gets_the_replay(sockets, post, author, hops):
    watcher = await sockets.connect(post.pk)
    missed = await sync_to_async(comment_services.comment_post)(post=post, author=author, body="missed")
    assert (await watcher[0].receive_json_from())["comment"]["id"] == missed.comment.pk
    hops.reset()
    socket, _ = await sockets.connect(post.pk, query=f"after={missed.comment.pk - 1}")
    assert (await socket.receive_json_from())["comment"]["id"] == missed.comment.pk
    assert "read_backlog" in hops.on_database_thread


async def test_a_comment_costs_one_hop_to_the_database_thread(sockets, post, author, hops):
    """The session's re-check and the save share one call: each hop waits behind every other socket's."""
    socket, _ = await sockets.connect(post.pk, user=author)
    hops.reset()
    await socket.send_json_to({"type": "comment.create", "body": "one hop", "client_id": "c1"})
    assert {(await socket.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}
    assert hops.on_database_thread == ["post_as_session_user"]
