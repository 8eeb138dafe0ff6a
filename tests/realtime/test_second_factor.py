"""The socket and BLOG_REQUIRE_2FA: a covered moderator's session must have given a second factor to delete
someone else's comment over the socket (as over HTTP), while the socket's identity is the same either way."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog.accounts.two_factor import services as two_factor_services
from blog.accounts.two_factor.policy import MESSAGE_SECOND_FACTOR_REQUIRED
from blog.models import Comment
from tests.blog.accounts.two_factor.helpers import enrol, require, verified_client
from tests.factories import make_comment, make_user
from tests.realtime.conftest import logged_in_client
from tests.realtime.thread_hops import tables_queried

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def covered(settings):
    require(settings, "staff,publishers")


@pytest.fixture
def moderator(db):
    """An Editor: publishes and deletes anyone's comment, so "publishers" covers them."""
    user = make_user("moderator", editor=True)
    enrol(user)
    return user


def session_key_of(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def unverified_session(user) -> str:
    return session_key_of(await sync_to_async(logged_in_client)(user))


async def verified_session(user) -> str:
    return session_key_of(await sync_to_async(verified_client)(user))


async def delete(socket, comment_id: int, client_id: str) -> list[dict]:
    await socket.send_json_to({"type": "comment.delete", "id": comment_id, "client_id": client_id})
    first = await socket.receive_json_from()
    if first["type"] == "error":
        return [first]
    return [first, await socket.receive_json_from()]


async def test_an_unverified_covered_moderator_cannot_delete_someone_elses_comment(
    covered, sockets, post, reader, moderator
):
    comment = await sync_to_async(make_comment)(post, reader, body="Stays")
    socket, hello = await sockets.connect(post.pk, session_key=await unverified_session(moderator))
    [error] = await delete(socket, comment.pk, "d1")
    assert error == {
        "type": "error",
        "code": "second_factor_required",
        "message": MESSAGE_SECOND_FACTOR_REQUIRED,
        "client_id": "d1",
    }
    assert await Comment.objects.filter(pk=comment.pk).aexists()
    # Still the moderator: their own comments go out as before, and the same socket stays open.
    assert hello["user"] == "moderator"
    await socket.send_json_to({"type": "comment.create", "body": "My own words", "client_id": "c1"})
    frames = [await socket.receive_json_from(), await socket.receive_json_from()]
    assert {frame["type"] for frame in frames} == {"comment.ack", "comment.created"}


async def test_the_same_moderator_with_a_verified_session_deletes_it(covered, sockets, post, reader, moderator):
    comment = await sync_to_async(make_comment)(post, reader, body="Goes")
    socket, _ = await sockets.connect(post.pk, session_key=await verified_session(moderator))
    frames = await delete(socket, comment.pk, "d1")
    assert {frame["type"] for frame in frames} == {"comment.ack", "comment.deleted"}
    assert not await Comment.objects.filter(pk=comment.pk).aexists()


async def test_the_identity_is_the_same_whether_or_not_the_session_gave_a_code(covered, sockets, post, moderator):
    _, unverified_hello = await sockets.connect(post.pk, session_key=await unverified_session(moderator))
    _, verified_hello = await sockets.connect(post.pk, session_key=await verified_session(moderator))
    assert unverified_hello == verified_hello
    assert verified_hello["user"] == "moderator" and verified_hello["can_moderate"] is True


async def test_with_the_setting_off_no_code_is_needed(settings, sockets, post, reader, moderator):
    require(settings, "off")
    comment = await sync_to_async(make_comment)(post, reader)
    socket, _ = await sockets.connect(post.pk, session_key=await unverified_session(moderator))
    frames = await delete(socket, comment.pk, "d1")
    assert {frame["type"] for frame in frames} == {"comment.ack", "comment.deleted"}


async def test_the_second_factor_is_read_again_at_each_write(covered, sockets, post, reader, moderator):
    """Turning two-factor sign-in off elsewhere takes the verified session's power away from its open sockets."""
    first = await sync_to_async(make_comment)(post, reader, body="one")
    second = await sync_to_async(make_comment)(post, reader, body="two")
    socket, _ = await sockets.connect(post.pk, session_key=await verified_session(moderator))
    assert {frame["type"] for frame in await delete(socket, first.pk, "d1")} == {"comment.ack", "comment.deleted"}
    await sync_to_async(two_factor_services.second_factor_remove)(user=moderator)
    [error] = await delete(socket, second.pk, "d2")
    assert error["code"] == "second_factor_required"
    assert await Comment.objects.filter(pk=second.pk).aexists()


def session_naming_the_device_of(user, other) -> str:
    """The user's session, made to name another user's device (as a session of theirs could only by a bug)."""
    client = logged_in_client(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=other).persistent_id
    session.save()
    return session.session_key


async def test_a_session_naming_someone_elses_device_is_not_verified(covered, sockets, post, reader, moderator):
    other = await sync_to_async(make_user)("other_editor", editor=True)
    await sync_to_async(enrol)(other)
    session_key = await sync_to_async(session_naming_the_device_of)(moderator, other)
    comment = await sync_to_async(make_comment)(post, reader)
    socket, _ = await sockets.connect(post.pk, session_key=session_key)
    [error] = await delete(socket, comment.pk, "d1")
    assert error["code"] == "second_factor_required"


async def test_the_device_is_read_in_the_same_hop_as_the_session(covered, sockets, post, moderator, hops):
    session_key = await verified_session(moderator)
    await sockets.connect(post.pk)  # the hub's own first work is not this handshake's
    socket = await sockets.handshake(post.pk, session_key=session_key)
    hops.reset()
    async with tables_queried() as tables:
        hops.reset()
        connected, _ = await socket.connect()
        assert connected
        assert (await socket.receive_json_from())["type"] == "hello"
        handshake_hops = list(hops.on_database_thread)
    assert handshake_hops == ["read_session", "post_and_rights"]
    assert tables[:3] == ["django_session", "blog_user", TOTPDevice._meta.db_table]


async def test_the_moderation_queue_socket_needs_the_code_of_a_covered_moderator(covered, sockets, moderator):
    refused = sockets.to("/ws/moderation/", session_key=await unverified_session(moderator))
    connected, _ = await refused.connect()
    assert not connected
    allowed = sockets.to("/ws/moderation/", session_key=await verified_session(moderator))
    connected, _ = await allowed.connect()
    assert connected
    assert (await allowed.receive_json_from())["type"] == "hello"


async def test_a_moderator_the_setting_does_not_cover_needs_no_code(covered, sockets, post, author):
    moderator = await sync_to_async(make_user)("plain_moderator", moderator=True)
    comment = await sync_to_async(make_comment)(post, author)
    socket, _ = await sockets.connect(post.pk, session_key=await unverified_session(moderator))
    frames = await delete(socket, comment.pk, "d1")
    assert {frame["type"] for frame in frames} == {"comment.ack", "comment.deleted"}
