"""The per-process hub: one subscription per post, every comment to every reader once, nothing lost."""

from __future__ import annotations

import asyncio
import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blog.models import CommentChange
from realtime import broadcast, hub, presence
from realtime.consumers import CommentConsumer, event_key
from tests.factories import make_comment, make_post

pytestmark = pytest.mark.django_db(transaction=True)


async def post_comment(socket, body: str) -> None:
    await socket.send_json_to({"type": "comment.create", "body": body})


async def test_one_layer_subscription_per_process_not_per_socket(sockets, post, monkeypatch):
    layer = get_channel_layer()
    joined = []
    group_add = layer.group_add

    async def counting_group_add(group, channel):
        joined.append((group, channel))
        await group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", counting_group_add)
    for _ in range(3):
        await sockets.connect(post.pk)
    assert [group for group, _ in joined] == [broadcast.post_group_name(post.pk)]


async def test_every_reader_of_the_post_gets_each_comment_once_and_readers_elsewhere_none(
    sockets, post, author, reader
):
    other_post = await sync_to_async(make_post)(author)
    readers = [(await sockets.connect(post.pk))[0] for _ in range(5)]
    elsewhere = [(await sockets.connect(other_post.pk))[0] for _ in range(2)]
    writer, _ = await sockets.connect(post.pk, user=reader)
    for number in range(3):
        await post_comment(writer, f"comment {number}")
    for socket in readers:
        bodies = [(await socket.receive_json_from())["comment"]["body"] for _ in range(3)]
        assert bodies == ["comment 0", "comment 1", "comment 2"]
        assert await socket.receive_nothing()
    for socket in elsewhere:
        assert await socket.receive_nothing()


async def test_a_comment_the_layer_lost_reaches_readers_from_the_database(sockets, post, reader, monkeypatch):
    monkeypatch.setattr(hub, "CHECK_SECONDS", 0.1)
    socket, _ = await sockets.connect(post.pk)
    # Saved without any broadcast: as if the layer had dropped it.
    lost = await sync_to_async(make_comment)(post, reader, body="never broadcast")
    created = await socket.receive_json_from(timeout=2)
    assert (created["type"], created["comment"]["id"]) == ("comment.created", lost.pk)
    await asyncio.sleep(0.3)
    assert await socket.receive_nothing(), "caught up once, not at every check"


async def test_a_comment_broadcast_during_the_replay_arrives_once_after_the_backlog(sockets, post, reader, monkeypatch):
    older = await sync_to_async(make_comment)(post, reader, body="older")
    replay = CommentConsumer.replay_backlog

    async def replay_while_a_comment_arrives(consumer):
        # Saved and broadcast after subscribing, before the backlog is read: in both.
        both = await sync_to_async(make_comment)(post, reader, body="in both")
        await sync_to_async(broadcast.comment_created)(both)
        await asyncio.sleep(0.05)  # the hub hands it to the consumer, which holds it
        await replay(consumer)
        late = await sync_to_async(make_comment)(post, reader, body="live only")
        await sync_to_async(broadcast.comment_created)(late)
        await asyncio.sleep(0.05)

    monkeypatch.setattr(CommentConsumer, "replay_backlog", replay_while_a_comment_arrives)
    socket, _ = await sockets.connect(post.pk, query=f"after={older.pk - 1}")
    bodies = []
    while not await socket.receive_nothing(timeout=0.3):
        bodies.append((await socket.receive_json_from())["comment"]["body"])
    assert bodies == ["older", "in both", "live only"]


async def test_readers_are_counted_and_told_when_the_count_changes(sockets, post, monkeypatch):
    monkeypatch.setattr(presence, "TICK_SECONDS", 0.05)
    first = await sockets.handshake(post.pk)
    await first.connect()
    assert (await first.communicator.receive_json_from(timeout=5))["type"] == "hello"
    assert await first.communicator.receive_json_from(timeout=5) == {"type": "presence", "readers": 1}

    second, _ = await sockets.connect(post.pk)
    assert await first.communicator.receive_json_from(timeout=5) == {"type": "presence", "readers": 2}
    await second.disconnect()
    assert await first.communicator.receive_json_from(timeout=5) == {"type": "presence", "readers": 1}


async def test_presence_adds_up_the_reports_of_other_processes(sockets, post, monkeypatch):
    monkeypatch.setattr(presence, "TICK_SECONDS", 0.05)
    socket, _ = await sockets.connect(post.pk)
    layer = get_channel_layer()
    group = broadcast.post_group_name(post.pk)
    report = {"type": "presence.report", "group": group, "post": post.pk, "process": "elsewhere!1", "readers": 4}
    await layer.group_send(group, report)
    assert await socket.receive_nothing(timeout=0.4)  # collects the presence frames
    assert socket.presence[-1] == {"type": "presence", "readers": 5}


class SilentListener:
    async def deliver(self, event: dict) -> None:
        pass


def test_the_database_check_is_one_index_lookup_per_post_not_a_group_by(author, reader):
    """A GROUP BY post_id over the watched posts reads every row they have, at every check."""
    posts = [make_post(author) for _ in range(3)]
    watcher = hub.Hub(get_channel_layer())
    for post in posts:
        comment = make_comment(post, reader)
        change = CommentChange.objects.create(post=post, comment_id=1, kind=CommentChange.Kind.DELETED)
        watcher.listeners[broadcast.post_group_name(post.pk)].add(SilentListener())
        watcher.watched_from["comment"][post.pk] = watcher.watched_from["change"][post.pk] = 0
        # Nothing missed: the queries captured are the check itself.
        watcher.handed_on["comment"][post.pk].add(comment.pk)
        watcher.handed_on["change"][post.pk].add(change.pk)

    with CaptureQueriesContext(connection) as captured:
        async_to_sync(watcher.catch_up)()

    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if "GROUP BY" in sql.upper()], statements
    lookups = sorted((re.search(r'FROM "(\w+)"', sql)[1], post_filter(sql)) for sql in statements)
    expected = sorted((table, f"= {post.pk}") for table in ("blog_comment", "blog_commentchange") for post in posts)
    assert lookups == expected, statements


def post_filter(sql: str) -> str:
    """How the statement picks posts: "= 7" for one post, "IN (7, 8)" for several."""
    return re.search(r'"post_id" (= \d+|IN \([^)]*\))', sql)[1]


async def test_a_comment_that_arrives_twice_reaches_each_reader_once(sockets, post, reader):
    """The layer and the database check overlap; the hub, not each socket, sends each comment once."""
    readers = [(await sockets.connect(post.pk))[0] for _ in range(3)]
    comment = await sync_to_async(make_comment)(post, reader, body="twice")
    event = await sync_to_async(broadcast.comment_created_event)(comment)
    process_hub = hub.get_hub()
    await process_hub.dispatch(dict(event))
    await process_hub.dispatch(dict(event))  # as the database check would, after the layer
    for socket in readers:
        assert (await socket.receive_json_from())["comment"]["id"] == comment.pk
        assert await socket.receive_nothing()


async def test_a_readers_replayed_comment_is_not_sent_again_live(sockets, post, reader):
    comment = await sync_to_async(make_comment)(post, reader, body="replayed")
    socket, _ = await sockets.connect(post.pk, query=f"after={comment.pk - 1}")
    assert (await socket.receive_json_from())["comment"]["id"] == comment.pk
    # The live broadcast of the same comment comes after the replay (a slow layer).
    await sync_to_async(broadcast.comment_created)(comment)
    assert await socket.receive_nothing()


async def test_a_replayed_comment_seen_live_is_forgotten(sockets, post, reader):
    """Every reader of a restarted server resumes; what it replayed is kept only until it arrives live."""
    comment = await sync_to_async(make_comment)(post, reader, body="replayed")
    socket, _ = await sockets.connect(post.pk, query=f"after={comment.pk - 1}")
    assert (await socket.receive_json_from())["comment"]["id"] == comment.pk
    (consumer,) = hub.get_hub().listeners[broadcast.post_group_name(post.pk)]
    assert list(consumer.replayed) == [event_key({"type": "comment.created", "id": comment.pk})]
    await sync_to_async(broadcast.comment_created)(comment)
    assert await socket.receive_nothing()
    assert not consumer.replayed


async def test_a_live_change_is_not_taken_for_a_replayed_comment_of_the_same_number(sockets, post, reader):
    comment = await sync_to_async(make_comment)(post, reader, body="replayed")
    socket, _ = await sockets.connect(post.pk, query=f"after={comment.pk - 1}")
    assert (await socket.receive_json_from())["comment"]["id"] == comment.pk
    frame = broadcast.encode_frame({"type": "comment.deleted", "id": comment.pk, "change": comment.pk})
    group = broadcast.post_group_name(post.pk)
    change = {"type": "comment.deleted", "group": group, "post": post.pk, "id": comment.pk, "change": comment.pk}
    await hub.get_hub().dispatch({**change, "frame": frame})
    assert (await socket.receive_json_from())["change"] == comment.pk


async def test_a_reader_gone_before_its_disconnect_arrives_costs_no_error(sockets, post, reader, caplog):
    """daphne refuses frames for a connection that has closed while its disconnect is still queued."""
    from autobahn.exception import Disconnected

    await sockets.connect(post.pk)
    (consumer,) = hub.get_hub().listeners[broadcast.post_group_name(post.pk)]

    async def closed_protocol(message: dict) -> None:
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.base_send = closed_protocol
    comment = await sync_to_async(make_comment)(post, reader, body="to a closed socket")
    await hub.get_hub().dispatch(await sync_to_async(broadcast.comment_created_event)(comment))
    assert consumer.heartbeat.stopped
    assert not [record for record in caplog.records if record.levelname in ("ERROR", "WARNING")]


def test_presence_is_announced_less_often_the_more_readers_a_post_has():
    """Each announcement is a frame per reader: a crowd arriving must not cost a frame per reader per second each."""
    counter = presence.Presence(hub.Hub(get_channel_layer()))
    counter.announced_at[1] = 100.0
    per_second = presence.READERS_PER_ANNOUNCEMENT_SECOND
    assert counter.announcement_due(1, here=10, now=100.0 + presence.TICK_SECONDS)
    assert not counter.announcement_due(1, here=5 * per_second, now=100.0 + 4 * presence.TICK_SECONDS)
    assert counter.announcement_due(1, here=5 * per_second, now=100.0 + 5 * presence.TICK_SECONDS)


async def test_a_comment_the_layer_lost_between_two_it_delivered_still_reaches_readers(
    sockets, post, reader, monkeypatch
):
    """At most once: a broadcast can be lost while later ones arrive; the check looks for gaps, not only the newest."""
    socket, _ = await sockets.connect(post.pk)
    first = await sync_to_async(make_comment)(post, reader, body="delivered first")
    lost = await sync_to_async(make_comment)(post, reader, body="lost by the layer")
    last = await sync_to_async(make_comment)(post, reader, body="delivered last")
    for comment in (first, last):
        await sync_to_async(broadcast.comment_created)(comment)
    received = [(await socket.receive_json_from())["comment"]["id"] for _ in range(2)]
    assert received == [first.pk, last.pk]
    await hub.get_hub().catch_up()
    assert (await socket.receive_json_from(timeout=2))["comment"]["id"] == lost.pk
    await hub.get_hub().catch_up()
    assert await socket.receive_nothing(timeout=0.3), "handed on once"
