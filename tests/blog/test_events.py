"""The blog's events reach every subscriber after the commit, whatever one of them does."""

from __future__ import annotations

import pytest

from blog import events
from blog.comments import services as comment_services

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failing_subscriber_neither_fails_the_comment_nor_silences_the_others(post, reader, monkeypatch, caplog):
    heard = []

    def broken(event: events.Event) -> None:
        raise ConnectionError("the channel layer is down")

    monkeypatch.setattr(events, "_handlers", [])
    events.subscribe(broken)
    events.subscribe(heard.append)
    posted = comment_services.comment_post(post=post, author=reader, body="Saved whatever happens next")
    assert heard[0] == events.CommentCreated(posted.comment)
    # The post's author hears of it too: after the broken handler failed on that event as well.
    assert [type(event) for event in heard] == [events.CommentCreated, events.NotificationsChanged]
    assert "event handler failed event=CommentCreated" in caplog.text


def test_the_transport_subscribes_at_start_up():
    from realtime import broadcast

    assert broadcast.send_event in events._handlers
