"""An account deleted while pages are open: its comments leave every reader's page live, and its own sockets end."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from blog.models import Comment, CommentChange, UserSession
from tests.factories import PASSWORD, make_comment, make_reply, make_user
from tests.realtime.conftest import logged_in_client

pytestmark = pytest.mark.django_db(transaction=True)

PUSH_TIMEOUT = 1  # seconds, as for any other end of a session (test_revocation.py)


def signed_in(user):
    """A browser of the user's own, its sign-in on record as the sessions middleware keeps it."""
    browser = logged_in_client(user)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    UserSession.objects.create(user=user, session_key=key, device="Firefox on Linux")
    return browser, key


async def frames_until(socket, frame_type: str) -> list[dict]:
    """Every frame up to and including the first of that type."""
    frames = []
    while not frames or frames[-1]["type"] != frame_type:
        frames.append(await socket.receive_json_from(timeout=PUSH_TIMEOUT))
    return frames


async def test_a_deleted_accounts_comments_leave_open_pages_and_its_own_sockets_end(sockets, post, author, reader):
    rita = await sync_to_async(make_user)("rita")
    said = await sync_to_async(make_comment)(post, rita, body="Said and gone")
    answered = await sync_to_async(make_comment)(post, rita, body="Answered by others")
    await sync_to_async(make_reply)(answered, reader)
    watcher, _ = await sockets.connect(post.pk)
    other_reader, _ = await sockets.connect(post.pk, user=reader)
    rita_browser, rita_key = await sync_to_async(signed_in)(rita)
    _, rita_other_key = await sync_to_async(signed_in)(rita)
    rita_socket, hello = await sockets.connect(post.pk, session_key=rita_key)
    rita_elsewhere, _ = await sockets.connect(post.pk, session_key=rita_other_key)
    assert hello["user"] == "rita"

    response = await sync_to_async(rita_browser.post)("/accounts/delete/", {"password": PASSWORD, "understand": "on"})
    assert response.status_code == 302

    changes = {change.comment_id: change.pk async for change in CommentChange.objects.all()}
    expected = [
        {"type": "comment.deleted", "id": said.pk, "change": changes[said.pk], "placeholder": False},
        {"type": "comment.deleted", "id": answered.pk, "change": changes[answered.pk], "placeholder": True},
    ]
    for socket in (watcher, other_reader):
        frames = [await socket.receive_json_from(timeout=PUSH_TIMEOUT) for _ in expected]
        assert sorted(frames, key=lambda frame: frame["id"]) == expected
        assert await socket.receive_nothing()
    for socket in (rita_socket, rita_elsewhere):
        assert (await frames_until(socket, "session.ended"))[-1] == {"type": "session.ended"}
    placeholder = await Comment.objects.aget(pk=answered.pk)
    assert (placeholder.author_id, placeholder.body) == (None, "")
