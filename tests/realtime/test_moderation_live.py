"""Moderation over the comment socket: held comments reach no reader by any path; decisions reach every reader live."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from blog.comments import services as comment_services
from blog.models import Comment, CommentChange
from blog.moderation import services as moderation
from realtime import backlog, hub
from tests.factories import make_comment, make_reply, make_user
from tests.realtime.test_revocation import reading_socket, session_ended_is_pushed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def moderation_all(settings):
    settings.BLOG_COMMENT_MODERATION = "all"


@pytest.fixture
def moderator(transactional_db):
    return make_user("mod", moderator=True)


async def all_frames(socket) -> list[dict]:
    """What the socket was sent until it falls quiet."""
    frames = []
    while not await socket.receive_nothing(timeout=0.3):
        frames.append(await socket.receive_json_from())
    return frames


async def held_comment(post, author, body: str = "Held back") -> Comment:
    return (await sync_to_async(comment_services.comment_post)(post=post, author=author, body=body)).comment


async def test_a_held_comment_is_acked_as_pending_and_reaches_no_reader(sockets, post, reader, moderation_all):
    writer, _ = await sockets.connect(post.pk, user=reader)
    other, _ = await sockets.connect(post.pk)

    await writer.send_json_to({"type": "comment.create", "body": "Please approve me", "client_id": "h1"})

    ack = await writer.receive_json_from()
    comment = await Comment.objects.aget()
    assert ack == {"type": "comment.ack", "client_id": "h1", "id": comment.pk, "status": "pending"}
    assert await other.receive_nothing(timeout=0.3)
    assert await writer.receive_nothing()


async def test_approval_reaches_every_reader_as_a_new_comment_numbered_as_a_change(
    sockets, post, reader, moderator, moderation_all
):
    held = await held_comment(post, reader)
    newer = await sync_to_async(make_comment)(post, moderator, body="Published meanwhile")
    socket, _ = await sockets.connect(post.pk)

    await sync_to_async(moderation.comment_approve)(comment_id=held.pk, actor=moderator)

    frame = await socket.receive_json_from()
    change = await CommentChange.objects.aget(comment_id=held.pk)
    assert frame["type"] == "comment.created" and frame["change"] == change.pk
    assert (frame["comment"]["id"], frame["comment"]["status"]) == (held.pk, "published")
    assert held.pk < newer.pk  # older than what readers have: the client places it by id
    assert await socket.receive_nothing(timeout=0.3)


async def test_flags_past_the_threshold_hide_a_comment_from_every_reader_live(sockets, post, author, settings):
    settings.BLOG_FLAG_THRESHOLD = 2
    comment = await sync_to_async(make_comment)(post, author, body="Rude")
    socket, _ = await sockets.connect(post.pk)
    for name in ("f1", "f2"):
        flagger = await sync_to_async(make_user)(name)
        await sync_to_async(moderation.comment_flag)(comment_id=comment.pk, user=flagger, reason="abuse")

    frame = await socket.receive_json_from()

    change = await CommentChange.objects.aget(comment_id=comment.pk)
    assert frame == {"type": "comment.hidden", "id": comment.pk, "change": change.pk}
    assert await socket.receive_nothing(timeout=0.3), "the first flag changed nothing readers see"


async def test_a_reader_resuming_gets_an_approval_older_than_their_cursor_and_never_a_held_comment(
    sockets, post, reader, moderator, moderation_all
):
    held = await held_comment(post, reader)
    seen = await sync_to_async(make_comment)(post, moderator, body="Seen before leaving")
    still_held = await held_comment(post, reader, body="Still held")
    await sync_to_async(moderation.comment_approve)(comment_id=held.pk, actor=moderator)
    latest = await sync_to_async(make_comment)(post, moderator, body="After leaving")

    # A reader who left after `seen` and before any change comes back.
    socket, _ = await sockets.connect(post.pk, query=f"after={seen.pk}&changes_after=0")

    created = [frame["comment"]["id"] for frame in await all_frames(socket) if frame["type"] == "comment.created"]
    assert created == [latest.pk, held.pk]
    assert still_held.pk not in created


async def test_the_hubs_database_check_hands_on_no_held_comment(sockets, post, reader, moderation_all):
    socket, _ = await sockets.connect(post.pk)
    held = await held_comment(post, reader)
    await hub.get_hub().catch_up()
    assert await socket.receive_nothing(timeout=0.3)
    # Nor does it look for one at every check: held comments are not among those it compares.
    assert held.pk not in (await sync_to_async(hub.recent_ids)("comment", {post.pk: 0}))[post.pk]
    assert await sync_to_async(hub.newest_id)(Comment, post.pk) == 0
    # And asked by id (a comment hidden after the check listed it), it reads nothing a reader may not see.
    assert await sync_to_async(backlog.read_comments_by_id)(post.pk, [held.pk]) == []


async def test_an_approval_the_layer_lost_reaches_readers_from_the_database_once(
    sockets, post, reader, moderator, moderation_all, monkeypatch
):
    held = await held_comment(post, reader)
    socket, _ = await sockets.connect(post.pk)
    monkeypatch.setattr("blog.events._handlers", [])  # the layer loses the approval's broadcast
    await sync_to_async(moderation.comment_approve)(comment_id=held.pk, actor=moderator)

    await hub.get_hub().catch_up()

    created = [frame for frame in await all_frames(socket) if frame["type"] == "comment.created"]
    assert created and {frame["comment"]["id"] for frame in created} == {held.pk}
    await hub.get_hub().catch_up()
    assert await socket.receive_nothing(timeout=0.3), "handed on once"


async def test_a_readers_delete_or_edit_of_someone_elses_held_comment_finds_no_such_comment(
    sockets, post, author, reader, moderation_all
):
    held = await held_comment(post, author)
    socket, _ = await sockets.connect(post.pk, user=reader)
    for frame_type in ("comment.delete", "comment.edit"):
        await socket.send_json_to({"type": frame_type, "id": held.pk, "body": "x", "client_id": "x"})
        error = await socket.receive_json_from()
        assert (error["type"], error["code"]) == ("error", "invalid")
        assert error["errors"] == {"id": ["There is no such comment on this post."]}
    assert await Comment.objects.filter(pk=held.pk, body="Held back").aexists()


async def test_a_ban_ends_the_banned_users_open_sockets_at_once(sockets, post, reader, moderator):
    socket, _ = await reading_socket(sockets, post, reader)
    await sync_to_async(moderation.user_ban)(user_id=reader.pk, actor=moderator, reason="Spam")
    await session_ended_is_pushed(socket)


async def test_a_reader_resuming_after_a_hiding_never_gets_the_hidden_comment(sockets, post, author, settings):
    settings.BLOG_FLAG_THRESHOLD = 1
    before = await sync_to_async(make_comment)(post, author, body="Seen")
    hidden = await sync_to_async(make_comment)(post, author, body="Hidden while away")
    flagger = await sync_to_async(make_user)("flagger")
    await sync_to_async(moderation.comment_flag)(comment_id=hidden.pk, user=flagger, reason="spam")

    socket, _ = await sockets.connect(post.pk, query=f"after={before.pk}&changes_after=0")

    frames = await all_frames(socket)
    assert not [frame for frame in frames if frame["type"] == "comment.created"]
    assert [frame["id"] for frame in frames if frame["type"] == "comment.hidden"] == [hidden.pk]


async def test_a_reply_under_a_hidden_comment_is_not_read_again_at_every_check(
    sockets, post, author, reader, monkeypatch
):
    top = await sync_to_async(make_comment)(post, author, body="Top")
    hidden = await sync_to_async(make_reply)(top, reader, body="Hidden")
    socket, _ = await sockets.connect(post.pk)
    moderator = await sync_to_async(make_user)(moderator=True)
    await sync_to_async(moderation.comment_hide)(comment_id=hidden.pk, actor=moderator)
    assert (await socket.receive_json_from())["type"] == "comment.hidden"
    # Saved without a broadcast, under the hidden comment: readers may not see it.
    await sync_to_async(make_reply)(hidden, author, body="Under it")
    reads = []

    def counted(read):
        def read_and_count(post_id, ids):
            reads.append(ids)
            return read(post_id, ids)

        return read_and_count

    monkeypatch.setattr(hub, "TRACKED", tuple((kind, model, counted(read)) for kind, model, read in hub.TRACKED))
    for _ in range(3):
        await hub.get_hub().catch_up()

    assert await socket.receive_nothing(timeout=0.3)
    assert len(reads) == 1, "read once, then known"
