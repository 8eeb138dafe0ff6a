"""The session stays the gate for every comment from a socket, not just at connect."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.utils import timezone

from blog.comments import services as comment_services
from blog.models import Comment, User
from realtime.hub import get_hub
from tests.factories import PASSWORD
from tests.realtime.conftest import logged_in_client

pytestmark = pytest.mark.django_db(transaction=True)

PUSH_TIMEOUT = 1  # seconds: revocation must reach open sockets within a second


def session_key_of(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def browser(user):
    client = await sync_to_async(logged_in_client)(user)
    return client, session_key_of(client)


async def comment_is_refused_as_session_ended(socket, client_id="after"):
    """Sends a comment; expects session.ended, then login_required, and nothing saved."""
    await socket.send_json_to({"type": "comment.create", "body": "Should not be saved", "client_id": client_id})
    assert await socket.receive_json_from() == {"type": "session.ended"}
    error = await socket.receive_json_from()
    assert (error["code"], error["client_id"], error["message"]) == (
        "login_required",
        client_id,
        comment_services.MESSAGE_LOGIN_REQUIRED,
    )
    assert not await Comment.objects.filter(body="Should not be saved").aexists()


async def test_logout_in_another_tab_is_pushed_to_the_socket_within_a_second(sockets, post, reader, caplog):
    client, key = await browser(reader)
    socket, hello = await sockets.connect(post.pk, session_key=key)
    assert hello["user"] == "reader"

    with caplog.at_level("INFO", logger="realtime.consumers"):
        await sync_to_async(client.post)("/accounts/logout/")
        assert await socket.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "session.ended"}
    assert f"websocket session ended post={post.pk} user={reader.pk} reason=logout" in caplog.text
    assert key not in caplog.text, "session keys must never be logged"
    await socket.send_json_to({"type": "comment.create", "body": "Should not be saved", "client_id": "x"})
    error = await socket.receive_json_from()
    assert error["code"] == "login_required"
    assert not await Comment.objects.aexists()


async def test_socket_of_an_ended_session_keeps_reading_as_anonymous(sockets, post, reader, author):
    client, key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=key)
    await sync_to_async(client.post)("/accounts/logout/")
    await socket.receive_json_from(timeout=PUSH_TIMEOUT)
    writer, _ = await sockets.connect(post.pk, user=author)
    await writer.send_json_to({"type": "comment.create", "body": "Still live for readers"})
    created = await socket.receive_json_from()
    assert created["comment"]["body"] == "Still live for readers"


async def test_logout_of_one_browser_leaves_the_other_browsers_socket_alone(sockets, post, reader):
    first, _ = await browser(reader)
    _, other_key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=other_key)
    await sync_to_async(first.post)("/accounts/logout/")
    assert await socket.receive_nothing(timeout=PUSH_TIMEOUT)
    await socket.send_json_to({"type": "comment.create", "body": "Still logged in here"})
    assert {(await socket.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}


async def test_password_change_ends_other_sessions_but_not_the_changing_one(sockets, post, reader):
    changer, changer_key = await browser(reader)
    _, other_key = await browser(reader)
    changing_socket, _ = await sockets.connect(post.pk, session_key=changer_key)
    other_socket, _ = await sockets.connect(post.pk, session_key=other_key)

    response = await sync_to_async(changer.post)(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "a-new-long-password", "new_password2": "a-new-long-password"},
    )
    assert response.status_code == 302

    assert await other_socket.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "session.ended"}
    await comment_is_refused_as_session_ended_after_push(other_socket)
    # Django keeps the changing session logged in (update_session_auth_hash), under a new key.
    new_key = session_key_of(changer)
    assert new_key != changer_key
    fresh_socket, hello = await sockets.connect(post.pk, session_key=new_key)
    assert hello["user"] == "reader"
    await fresh_socket.send_json_to({"type": "comment.create", "body": "I changed it"})
    assert {(await fresh_socket.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}


async def comment_is_refused_as_session_ended_after_push(socket):
    await socket.send_json_to({"type": "comment.create", "body": "Should not be saved", "client_id": "late"})
    error = await socket.receive_json_from()
    assert (error["code"], error["client_id"]) == ("login_required", "late")
    assert not await Comment.objects.filter(body="Should not be saved").aexists()


async def test_expired_session_cannot_comment(sockets, post, reader):
    _, key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=key)
    await Session.objects.filter(session_key=key).aupdate(expire_date=timezone.now() - timedelta(seconds=1))
    await comment_is_refused_as_session_ended(socket)


async def test_deleted_session_rows_cannot_comment(sockets, post, reader):
    _, key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=key)
    await Session.objects.all().adelete()
    await comment_is_refused_as_session_ended(socket)


async def test_deactivated_user_cannot_comment(sockets, post, reader):
    _, key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=key)
    await User.objects.filter(pk=reader.pk).aupdate(is_active=False)
    await comment_is_refused_as_session_ended(socket)


async def test_password_changed_without_any_signal_still_ends_the_socket_session(sockets, post, reader):
    """Even a change nobody announced (a bulk update sends no signal) is caught at the next comment."""
    _, key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=key)
    await User.objects.filter(pk=reader.pk).aupdate(password=make_password("changed-behind-its-back"))
    await comment_is_refused_as_session_ended(socket)


async def test_deactivating_a_user_in_the_admin_is_pushed(sockets, post, reader):
    chief = await sync_to_async(User.objects.create_superuser)("chief", password=PASSWORD)
    admin_client, _ = await browser(chief)
    _, key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=key)
    # The change form without "is_active" (an unticked checkbox sends nothing).
    data = {"username": "reader", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    response = await sync_to_async(admin_client.post)(f"/admin/blog/user/{reader.pk}/change/", data)
    assert response.status_code == 302
    assert not (await User.objects.aget(pk=reader.pk)).is_active
    assert await socket.receive_json_from(timeout=PUSH_TIMEOUT) == {"type": "session.ended"}


async def test_valid_session_refreshes_the_user_for_each_comment(sockets, post, reader):
    _, key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=key)
    await socket.send_json_to({"type": "comment.create", "body": "Fine"})
    assert {(await socket.receive_json_from())["type"] for _ in range(2)} == {"comment.ack", "comment.created"}


OLD_KEY = "an-old-secret-key-being-rotated-out-0123456789-abcdefghijklmnop"
NEW_KEY = "the-new-secret-key-after-the-rotation-0123456789-abcdefghijklm"


async def test_key_rotation_keeps_the_user_logged_in_on_the_socket_and_over_http(sockets, post, reader):
    with override_settings(SECRET_KEY=OLD_KEY):
        client, key = await browser(reader)
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        _, hello = await sockets.connect(post.pk, session_key=key)
        assert hello["user"] == "reader"
        assert await Session.objects.filter(session_key=key).aexists(), "the socket must not flush the session"
        response = await sync_to_async(client.get)("/blog/whoami/")
        assert response.content.decode() == "You are logged in as reader."


async def test_without_the_fallback_an_old_session_is_anonymous(sockets, post, reader):
    with override_settings(SECRET_KEY=OLD_KEY):
        _, key = await browser(reader)
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        _, hello = await sockets.connect(post.pk, session_key=key)
    assert hello["user"] is None


async def test_writes_sent_together_after_the_session_ended_end_it_once(sockets, post, reader, monkeypatch):
    """Writes run side by side (realtime/consumers.py, start_write): each finds the session gone."""
    _, key = await browser(reader)
    socket, _ = await sockets.connect(post.pk, session_key=key)
    layer, group_discard = get_hub().layer, get_hub().layer.group_discard

    async def over_the_network(group: str, channel: str) -> None:
        # As with Redis: leaving the user's group takes a few turns of the loop.
        for _ in range(5):
            await asyncio.sleep(0)
        await group_discard(group, channel)

    monkeypatch.setattr(layer, "group_discard", over_the_network)
    await Session.objects.all().adelete()
    for client_id in ("first", "second"):
        await socket.send_json_to({"type": "comment.create", "body": "Should not be saved", "client_id": client_id})
    frames = [await socket.receive_json_from() for _ in range(3)]
    assert frames[0] == {"type": "session.ended"}
    assert [(frame["code"], frame["client_id"]) for frame in frames[1:]] == [
        ("login_required", "first"),
        ("login_required", "second"),
    ]
    assert await socket.receive_nothing()  # no second session.ended
    assert not await Comment.objects.filter(body="Should not be saved").aexists()
