"""After old comment changes are pruned, a reader who needed them is told to resync, never handed a gap."""

from __future__ import annotations

from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from blog.models import Post
from realtime.backlog import BACKLOG_LIMIT
from tests.blog.comments.test_prune_changes import add_changes
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def pruned(author, settings) -> tuple[Post, list[int]]:
    """A post whose 10 oldest of 210 changes were pruned, and the ids of all 210."""
    post = await sync_to_async(make_post)(author)
    changes = await sync_to_async(add_changes)(post, BACKLOG_LIMIT + 10, days_old=30)
    settings.BLOG_COMMENT_CHANGES_KEEP_DAYS = 2
    await sync_to_async(call_command)("prune_comment_changes", stdout=StringIO())
    return post, changes


async def resume(sockets, post: Post, changes_after: int) -> list[dict]:
    socket, _ = await sockets.connect(post.pk, query=f"changes_after={changes_after}")
    frames = []
    while not await socket.receive_nothing(timeout=0.3):
        frames.append(await socket.receive_json_from())
    return frames


async def test_a_reader_resuming_from_before_the_pruned_changes_is_told_to_resync(sockets, pruned):
    post, changes = pruned
    # Only 200 changes are newer than this, few enough to replay, but the oldest of them are gone.
    assert await resume(sockets, post, changes_after=changes[8]) == [{"type": "resync"}]


async def test_a_reader_resuming_from_the_boundary_or_after_gets_the_replay(sockets, pruned):
    post, changes = pruned
    latest = await resume(sockets, post, changes_after=changes[-4])
    assert [(frame["type"], frame["change"]) for frame in latest] == [("comment.deleted", n) for n in changes[-3:]]
    at_the_boundary = await resume(sockets, post, changes_after=changes[9])
    assert [frame["change"] for frame in at_the_boundary] == changes[10:]
