"""Sockets resuming from the same point share one backlog read, but only one that has not started."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from realtime import backlog
from realtime.backlog import SharedBacklogReads
from realtime.database_thread import on_database_thread
from tests.factories import make_comment

pytestmark = pytest.mark.django_db(transaction=True)


async def test_resumes_from_the_same_point_while_the_database_thread_is_busy_share_one_read(post, author, hops):
    comment = await sync_to_async(make_comment)(post, author, body="missed")
    reads = SharedBacklogReads()
    busy = threading.Event()
    blocker = asyncio.ensure_future(on_database_thread(busy.wait)(5))
    await hops.made(1)
    first = asyncio.ensure_future(reads.read(post.pk, after=0, changes_after=None))
    second = asyncio.ensure_future(reads.read(post.pk, after=0, changes_after=None))
    busy.set()
    await blocker
    missed = await asyncio.gather(first, second)
    assert [[event["id"] for event in answer["after"]] for answer in missed] == [[comment.pk], [comment.pk]]
    assert hops.on_database_thread.count("read_backlog") == 1


async def test_a_resume_asked_once_the_shared_read_has_started_gets_a_read_of_its_own(post, author, hops, monkeypatch):
    """The started read may have missed what was handed on before the later socket joined its post."""
    await sync_to_async(make_comment)(post, author, body="missed")
    reading, go_on = threading.Event(), threading.Event()
    read_comments_after = backlog.read_comments_after

    def held_read(post_id: int, after: int):
        reading.set()
        go_on.wait(5)
        return read_comments_after(post_id, after)

    monkeypatch.setattr(backlog, "read_comments_after", held_read)
    reads = SharedBacklogReads()
    first = asyncio.ensure_future(reads.read(post.pk, after=0, changes_after=None))
    assert await asyncio.to_thread(reading.wait, 5), "the first read started"
    second = asyncio.ensure_future(reads.read(post.pk, after=0, changes_after=None))
    go_on.set()
    await asyncio.gather(first, second)
    assert hops.on_database_thread.count("read_backlog") == 2
