"""/ws/moderation/: the moderation queue, live for moderators only."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async

from blog import events
from blog.comments import services as comment_services
from blog.moderation import policy
from blog.moderation import selectors as moderation_selectors
from blog.moderation import services as moderation_services
from realtime.moderation import ModerationConsumer
from tests.factories import make_comment, make_user
from tests.realtime.conftest import Socket, session_of

pytestmark = pytest.mark.django_db(transaction=True)

PUSH_TIMEOUT = 1  # seconds: within a second of the commit


async def open_queue(sockets, user) -> tuple[Socket, dict]:
    session_key, _ = await session_of(user)
    socket = sockets.to("/ws/moderation/", session_key=session_key)
    connected, code = await socket.connect()
    assert connected, f"handshake refused ({code})"
    hello = await socket.receive_json_from()
    assert hello["type"] == "hello"
    return socket, hello


@pytest.fixture
def moderator(transactional_db):
    return make_user("mod", moderator=True)


@pytest.fixture
def other_moderator(transactional_db):
    return make_user("mod2", moderator=True)


async def test_an_anonymous_handshake_is_refused(sockets):
    socket = sockets.to("/ws/moderation/", session_key=None)
    connected, _ = await socket.connect()
    assert not connected  # closed before accept: daphne answers 403


async def test_a_signed_in_reader_who_does_not_moderate_is_refused(sockets, reader):
    session_key, _ = await session_of(reader)
    socket = sockets.to("/ws/moderation/", session_key=session_key)
    connected, _ = await socket.connect()
    assert not connected


async def test_a_moderator_gets_hello_with_the_queue_oldest_first(sockets, moderator, post, reader, author, settings):
    settings.BLOG_COMMENT_MODERATION = "all"
    first = await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="First held.")
    await sync_to_async(make_comment)(post, author, body="Published and unflagged: not in the queue.")
    second = await sync_to_async(comment_services.comment_post)(post=post, author=author, body="Second held.")
    _, hello = await open_queue(sockets, moderator)
    assert hello["user"] == "mod"
    assert [item["id"] for item in hello["items"]] == [first.comment.pk, second.comment.pk]
    assert hello["items"] == await sync_to_async(moderation_selectors.queue_items)()
    assert hello["items"][0]["held_reason"] == policy.REASON_ALL


async def test_a_held_comment_reaches_an_open_queue(sockets, moderator, post, reader, settings):
    socket, hello = await open_queue(sockets, moderator)
    assert hello["items"] == []
    settings.BLOG_COMMENT_MODERATION = "all"
    posted = await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Let me in.")
    frame = await socket.receive_json_from(timeout=PUSH_TIMEOUT)
    assert frame["type"] == "moderation.item"
    assert (frame["item"]["id"], frame["item"]["status"]) == (posted.comment.pk, "pending")
    assert frame["item"]["author"]["username"] == "reader"
    assert frame["item"]["body"] == "Let me in."


async def test_an_approval_elsewhere_resolves_the_entry_for_every_moderator(
    sockets, moderator, other_moderator, post, reader, settings
):
    settings.BLOG_COMMENT_MODERATION = "all"
    posted = await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Approve me.")
    watching, hello = await open_queue(sockets, moderator)
    deciding, _ = await open_queue(sockets, other_moderator)
    assert [item["id"] for item in hello["items"]] == [posted.comment.pk]
    await sync_to_async(moderation_services.comment_approve)(comment_id=posted.comment.pk, actor=other_moderator)
    resolved = {"type": "moderation.resolved", "id": posted.comment.pk, "action": "approve", "by": "mod2"}
    assert await watching.receive_json_from(timeout=PUSH_TIMEOUT) == resolved
    assert await deciding.receive_json_from(timeout=PUSH_TIMEOUT) == resolved


async def test_a_flag_puts_a_published_comment_in_the_queue(sockets, moderator, post, author, reader):
    comment = await sync_to_async(make_comment)(post, author, body="Flag me.")
    socket, _ = await open_queue(sockets, moderator)
    await sync_to_async(moderation_services.comment_flag)(comment_id=comment.pk, user=reader, reason="spam")
    frame = await socket.receive_json_from(timeout=PUSH_TIMEOUT)
    assert frame["type"] == "moderation.item"
    assert (frame["item"]["id"], frame["item"]["flags"]) == (comment.pk, {"spam": 1})


async def test_a_logout_elsewhere_ends_the_moderation_socket(sockets, moderator, post, reader, settings):
    session_key, browser = await session_of(moderator)
    socket = sockets.to("/ws/moderation/", session_key=session_key)
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from())["type"] == "hello"
    await sync_to_async(browser.post)("/accounts/logout/")
    assert await socket.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "session.ended"}
    closed = await socket.communicator.receive_output(timeout=PUSH_TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_a_change_made_while_the_socket_reads_the_queue_comes_after_hello(
    sockets, moderator, monkeypatch, post, reader
):
    """Joined before the queue is read: what changes meanwhile is held until hello, then sent."""
    read_queue = ModerationConsumer.hello

    def read_while_a_comment_is_held(user):
        item = {"id": 99, "status": "pending"}
        events.publish(events.ModerationChanged(99, item))
        time.sleep(0.2)  # the hub hands it on while the handshake is still reading
        return read_queue(user)

    monkeypatch.setattr(ModerationConsumer, "hello", staticmethod(read_while_a_comment_is_held))
    socket, hello = await open_queue(sockets, moderator)
    assert hello["items"] == []
    frame = await socket.receive_json_from(timeout=PUSH_TIMEOUT)
    assert frame == {"type": "moderation.item", "item": {"id": 99, "status": "pending"}}


async def test_the_moderation_socket_takes_only_pongs(sockets, moderator):
    socket, _ = await open_queue(sockets, moderator)
    await socket.send_json_to({"type": "moderation.approve", "id": 1})
    error = await socket.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "bad_request")
    await socket.send_to(text_data="not json")
    assert (await socket.receive_json_from())["code"] == "bad_request"


async def test_a_moderation_socket_that_never_answers_pings_is_closed_as_too_slow(sockets, moderator, settings):
    settings.BLOG_SOCKET_PING_SECONDS = 0.1
    settings.BLOG_SOCKET_PONG_TIMEOUT_SECONDS = 0.3
    socket, _ = await open_queue(sockets, moderator)
    assert (await socket.receive_json_from(timeout=2))["type"] == "ping"
    assert await socket.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4408}


async def test_a_moderator_over_the_socket_cap_is_refused_with_4429(sockets, moderator, settings):
    settings.BLOG_SOCKETS_PER_USER = 1
    await open_queue(sockets, moderator)
    session_key, _ = await session_of(moderator)
    second = sockets.to("/ws/moderation/", session_key=session_key)
    assert (await second.connect())[0]
    assert await second.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4429}
