"""Notifications reach a user's open sockets: the comment socket of any post, and /ws/notifications/."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from asgiref.sync import sync_to_async

from blog import events
from blog.comments import services as comment_services
from blog.models import Notification
from blog.notifications import services as notification_services
from realtime import broadcast
from realtime.hub import Hub
from realtime.notifications import NotificationConsumer
from tests.factories import make_post, make_user
from tests.realtime.conftest import session_of

pytestmark = pytest.mark.django_db(transaction=True)

PUSH_TIMEOUT = 1  # seconds: within a second of the commit


async def test_a_reply_reaches_the_comment_socket_of_another_post_with_the_count(sockets, author, reader, post):
    elsewhere = await sync_to_async(make_post)(author, title="Elsewhere")
    socket, hello = await sockets.connect(elsewhere.pk, user=author)
    assert hello["unread"] == 0
    posted = await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Hi @author")
    frame = await socket.receive_json_from(timeout=PUSH_TIMEOUT)
    assert frame["type"] == "notification"
    assert frame["unread"] == 1
    assert frame["notification"]["comment"] == posted.comment.pk
    assert frame["notification"]["kind"] == "mention"  # named: stronger than following the post
    assert frame["notification"]["actor"] == "reader"


async def test_the_notification_socket_says_hello_with_the_count_then_pushes(sockets, author, reader, post):
    await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Before the socket.")
    session_key, _ = await session_of(author)
    socket = sockets.to("/ws/notifications/", session_key=session_key)
    connected, _ = await socket.connect()
    assert connected
    assert await socket.receive_json_from() == {"type": "hello", "user": "author", "unread": 1}
    await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="After it.")
    frame = await socket.receive_json_from(timeout=PUSH_TIMEOUT)
    assert (frame["type"], frame["unread"]) == ("notification", 2)


async def test_other_readers_sockets_hear_nothing(sockets, author, reader, post):
    onlooker_socket, _ = await sockets.connect(post.pk, user=reader)
    await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Mine.")
    frame = await onlooker_socket.receive_json_from()
    assert frame["type"] == "comment.created"  # the post's stream, and no notification for its author
    assert await onlooker_socket.receive_nothing(timeout=0.3)


async def test_an_anonymous_handshake_is_refused(sockets):
    socket = sockets.to("/ws/notifications/", session_key=None)
    connected, code = await socket.connect()
    assert not connected  # closed before accept: daphne answers 403


async def test_marking_read_in_one_tab_updates_the_others(sockets, author, reader, post):
    await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Read me.")
    session_key, browser = await session_of(author)
    tab = sockets.to("/ws/notifications/", session_key=session_key)
    assert (await tab.connect())[0]
    assert (await tab.receive_json_from())["unread"] == 1
    response = await sync_to_async(browser.post)("/notifications/read/", HTTP_ACCEPT="application/json")
    assert response.json() == {"unread": 0}
    assert await tab.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "notifications.unread", "unread": 0}


async def test_a_logout_elsewhere_ends_the_notification_socket(sockets, author):
    session_key, browser = await session_of(author)
    socket = sockets.to("/ws/notifications/", session_key=session_key)
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    await sync_to_async(browser.post)("/accounts/logout/")
    assert await socket.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "session.ended"}
    closed = await socket.communicator.receive_output(timeout=PUSH_TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_after_the_session_ends_nothing_more_is_pushed(sockets, author, reader, post):
    session_key, browser = await session_of(author)
    socket, _ = await sockets.connect(post.pk, session_key=session_key)
    await sync_to_async(browser.post)("/accounts/logout/")
    assert await socket.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "session.ended"}
    await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Not for an ended session.")
    frame = await socket.receive_json_from()
    assert frame["type"] == "comment.created"  # still an anonymous reader of the post
    assert await socket.receive_nothing(timeout=0.3)


async def test_the_notification_socket_takes_only_pongs(sockets, author):
    session_key, _ = await session_of(author)
    socket = sockets.to("/ws/notifications/", session_key=session_key)
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    await socket.send_json_to({"type": "comment.create", "body": "Not here."})
    error = await socket.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "bad_request")
    await socket.send_to(text_data="not json")
    assert (await socket.receive_json_from())["code"] == "bad_request"


async def test_a_withdrawn_notification_lowers_the_count_live(sockets, author, reader, post):
    session_key, _ = await session_of(author)
    socket = sockets.to("/ws/notifications/", session_key=session_key)
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    posted = await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Oops.")
    assert (await socket.receive_json_from(timeout=PUSH_TIMEOUT))["unread"] == 1
    await sync_to_async(comment_services.comment_delete)(comment=posted.comment, actor=reader)
    assert await socket.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "notifications.unread", "unread": 0}


async def test_an_unfollowed_post_sends_nothing(sockets, author, reader, post):
    await sync_to_async(notification_services.post_follow)(user=author, post=post, following=False)
    session_key, _ = await session_of(author)
    socket = sockets.to("/ws/notifications/", session_key=session_key)
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="Unheard.")
    assert await socket.receive_nothing(timeout=0.3)


def test_the_notices_of_one_change_go_out_in_a_few_messages_not_one_per_user(monkeypatch):
    """A comment on a post thousands follow must not queue thousands of sends before the next comment."""
    sent = []
    monkeypatch.setattr(broadcast, "_group_send", sent.append)
    notices = tuple(events.Notice(user_id, 1, {"id": user_id}) for user_id in range(1, 451))
    broadcast.send_event(events.NotificationsChanged(notices))
    assert [len(message["frames"]) for message in sent] == [200, 200, 50]
    assert {message["group"] for message in sent} == {broadcast.NOTICES_GROUP}
    user_id, frame = sent[2]["frames"][-1]
    assert user_id == 450
    assert json.loads(frame) == {"type": "notification", "notification": {"id": 450}, "unread": 1}


async def test_each_user_gets_only_their_own_frame_from_a_shared_message(sockets, author, reader, post):
    """Two followers, one comment: one message to the processes, and each socket its own notice."""
    follower = await sync_to_async(make_user)("follower")
    await sync_to_async(notification_services.post_follow)(user=follower, post=post, following=True)
    author_socket, _ = await sockets.connect(post.pk, user=author)
    follower_socket, _ = await sockets.connect(post.pk, user=follower)
    await sync_to_async(comment_services.comment_post)(post=post, author=reader, body="To both of you.")
    for user, socket in ((author, author_socket), (follower, follower_socket)):
        own = await Notification.objects.aget(recipient=user)
        frames = [await socket.receive_json_from(timeout=PUSH_TIMEOUT) for _ in range(2)]
        assert sorted(frame["type"] for frame in frames) == ["comment.created", "notification"]
        [notice] = [frame for frame in frames if frame["type"] == "notification"]
        assert notice["notification"]["id"] == own.pk
        assert await socket.receive_nothing(timeout=0.3)  # and not the other user's


async def test_the_notification_socket_answers_a_pong_without_a_text_token_with_invalid(sockets, author):
    session_key, _ = await session_of(author)
    socket = sockets.to("/ws/notifications/", session_key=session_key)
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    await socket.send_json_to({"type": "pong", "token": 7})
    error = await socket.receive_json_from()
    assert (error["type"], error["code"], list(error["errors"])) == ("error", "invalid", ["token"])


async def test_a_notification_socket_that_never_answers_pings_is_closed_as_too_slow(sockets, author, settings):
    settings.BLOG_SOCKET_PING_SECONDS = 0.1
    settings.BLOG_SOCKET_PONG_TIMEOUT_SECONDS = 0.3
    session_key, _ = await session_of(author)
    socket = sockets.to("/ws/notifications/", session_key=session_key)
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from())["type"] == "hello"
    assert (await socket.receive_json_from(timeout=2))["type"] == "ping"
    assert await socket.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4408}


async def test_a_notification_made_while_the_socket_connects_comes_after_hello(sockets, author, monkeypatch):
    """Joined before the count is read: what is made meanwhile is held until hello, then sent."""
    read_count = NotificationConsumer.hello

    def count_while_a_notification_is_made(user):
        notice = events.Notice(user.pk, 1, {"id": 99, "kind": "mention"})
        events.publish(events.NotificationsChanged((notice,)))
        time.sleep(0.2)  # the hub hands it on while the handshake is still reading
        return read_count(user)

    monkeypatch.setattr(NotificationConsumer, "hello", staticmethod(count_while_a_notification_is_made))
    session_key, _ = await session_of(author)
    socket = sockets.to("/ws/notifications/", session_key=session_key)
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from())["type"] == "hello"
    frame = await socket.receive_json_from(timeout=PUSH_TIMEOUT)
    assert (frame["type"], frame["notification"]["id"]) == ("notification", 99)


async def test_a_notification_that_comes_while_the_comment_socket_connects_waits_for_hello(
    sockets, author, post, monkeypatch
):
    join_user = Hub.join_user

    async def join_then_a_notification(hub, user_id, listener):
        await join_user(hub, user_id, listener)
        await sync_to_async(events.publish)(events.NotificationsChanged((events.Notice(user_id, 1, {"id": 98}),)))
        await asyncio.sleep(0.2)  # handed on before the socket is accepted

    monkeypatch.setattr(Hub, "join_user", join_then_a_notification)
    socket, hello = await sockets.connect(post.pk, user=author)
    assert hello["type"] == "hello"
    frame = await socket.receive_json_from(timeout=PUSH_TIMEOUT)
    assert (frame["type"], frame["notification"]["id"]) == ("notification", 98)
