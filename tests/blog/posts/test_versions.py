"""Published posts cached with their comment versions: a warm read needs no database, and is never stale."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends import locmem

from blog import events, page_cache
from blog.comments import services as comment_services
from blog.models import Post
from blog.posts import versions as post_versions
from blog.process_cache import cache
from realtime import broadcast
from tests.blog.comments.test_pages import add_comments
from tests.blog.test_page_cache import comments_url, json_bodies, warm
from tests.factories import make_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    """Run what the blog publishes after a commit, as a real commit would (tests run inside a transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.mark.parametrize("count", [0, 200, 2000])
def test_a_warm_anonymous_page_and_json_take_no_query(client, post, reader, django_assert_num_queries, count):
    add_comments(post, reader, count)
    warm(client, post)
    with django_assert_num_queries(0):
        page = client.get(post.get_absolute_url())
    assert page.status_code == 200 and post.title in page.content.decode()
    assert f'data-last-comment-id="{post.comments.latest("id").pk if count else 0}"' in page.content.decode()
    with django_assert_num_queries(0):
        assert client.get(comments_url(post)).status_code == 200


def test_the_cached_post_carries_no_password_hash(client, post, author):
    warm(client, post)
    cached = cache.get(post_versions.entry_key(post.pk))
    assert cached.post.author.get_username() == author.username
    assert not cached.post.author.password and author.password


def test_a_comment_through_the_service_shows_at_once(client, post, reader, published):
    warm(client, post)
    with published():
        comment_services.comment_post(post=post, author=reader, body="just posted")
    assert "just posted" in client.get(post.get_absolute_url()).content.decode()
    assert json_bodies(client, post) == ["just posted"]


def test_an_edit_through_the_service_shows_at_once(client, post, reader, published):
    comment = make_comment(post, reader, body="before")
    warm(client, post)
    with published():
        comment_services.comment_edit(comment=comment, actor=reader, body="after")
    assert "after" in client.get(post.get_absolute_url()).content.decode()
    assert json_bodies(client, post) == ["after"]


def test_a_deletion_through_the_service_shows_at_once(client, post, reader, published):
    comment = make_comment(post, reader, body="soon gone")
    warm(client, post)
    with published():
        comment_services.comment_delete(comment=comment, actor=reader)
    assert "soon gone" not in client.get(post.get_absolute_url()).content.decode()
    assert json_bodies(client, post) == []


def test_an_unpublished_post_is_gone_for_anonymous_readers_at_once(client, post, published):
    warm(client, post)
    post.status = Post.Status.DRAFT
    with published():
        post.save()
    assert client.get(post.get_absolute_url()).status_code == 404
    assert client.get(comments_url(post)).status_code == 404


def test_a_deleted_post_is_gone_at_once(client, post, published):
    warm(client, post)
    with published():
        post.delete()
    assert client.get(f"/blog/posts/{post.pk}/").status_code == 404


def test_a_title_saved_like_the_admin_does_shows_at_once(client, post, published):
    warm(client, post)
    post.title = "A new title"
    with published():
        post.save()
    assert "A new title" in client.get(post.get_absolute_url()).content.decode()


def test_an_entry_read_before_a_change_is_never_served_after_it(client, post, reader, published):
    """A reader that read the database before a comment was saved stores its entry after the change."""
    found = post_versions.lookup(post.pk)  # the reader's token, taken before its database read
    stale = Post.objects.with_comment_versions().select_related("author").get(pk=post.pk)
    with published():
        comment_services.comment_post(post=post, author=reader, body="saved meanwhile")
    cache.set(post_versions.entry_key(post.pk), post_versions.CachedPost(stale, found.token))
    assert "saved meanwhile" in client.get(post.get_absolute_url()).content.decode()


def test_the_cache_is_dropped_before_the_realtime_broadcaster_hears_of_a_change():
    handlers = events._handlers
    assert post_versions.forget_changed_post in handlers and broadcast.send_event in handlers
    assert handlers.index(post_versions.forget_changed_post) < handlers.index(broadcast.send_event)


def test_a_listener_after_the_blogs_own_reads_the_new_page(client, post, reader, published, monkeypatch):
    """What a live frame's reader does: reload as soon as the frame arrives."""
    warm(client, post)
    reloaded: list[str] = []

    def reload_on_frame(event: events.Event) -> None:
        if isinstance(event, events.CommentCreated):
            reloaded.append(client.get(post.get_absolute_url()).content.decode())

    monkeypatch.setattr(events, "_handlers", [*events._handlers, reload_on_frame])
    with published():
        comment_services.comment_post(post=post, author=reader, body="live and reloaded")
    assert len(reloaded) == 1 and "live and reloaded" in reloaded[0]


def test_writes_that_publish_nothing_show_within_the_entrys_lifetime(client, post, settings, monkeypatch):
    """A bulk update in a shell sends no event: the entry's timeout is the safety net."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    warm(client, post)
    Post.objects.filter(pk=post.pk).update(title="Renamed in bulk")
    assert "Renamed in bulk" not in client.get(post.get_absolute_url()).content.decode()
    assert post_versions.ENTRY_SECONDS <= 2
    later = locmem.time.time() + post_versions.ENTRY_SECONDS + 1
    monkeypatch.setattr(locmem.time, "time", lambda: later)
    assert "Renamed in bulk" in client.get(post.get_absolute_url()).content.decode()


def test_drafts_are_never_cached(client, draft, author):
    client.force_login(author)
    assert client.get(draft.get_absolute_url()).status_code == 200
    assert cache.get(post_versions.entry_key(draft.pk)) is None


def test_a_logged_in_reader_of_a_cached_post_still_gets_their_controls(client, post, reader, django_assert_num_queries):
    comment = make_comment(post, reader)
    warm(client, post)
    client.force_login(reader)
    # The session, the user, the user's permissions (direct and through groups); while the page
    # renders, whether they follow the post and their unread notifications (the bell); no post query
    # (nor one for held comments: the cached post says it has none).
    with django_assert_num_queries(6):
        html = client.get(post.get_absolute_url()).content.decode()
    assert f'href="/blog/comments/{comment.pk}/edit/"' in html


def test_with_the_cache_down_a_published_post_is_read_from_the_database(client, post, reader, monkeypatch):
    make_comment(post, reader, body="from the database")
    warm(client, post)

    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the cache is down")

    backend = type(caches["default"])
    for method in ("get", "get_many", "set", "set_many", "add", "delete"):
        monkeypatch.setattr(backend, method, down)
    post.title = "Renamed while the cache was down"
    Post.objects.filter(pk=post.pk).update(title=post.title)
    page = client.get(post.get_absolute_url())
    assert page.status_code == 200 and post.title in page.content.decode()
    assert json_bodies(client, post) == ["from the database"]


def test_other_events_leave_the_cache_alone(client, post, reader):
    warm(client, post)
    post_versions.forget_changed_post(events.UserSessionsChanged(user_id=reader.pk, reason="logout"))
    assert cache.get(post_versions.entry_key(post.pk)) is not None


@pytest.fixture
def hops(monkeypatch) -> list[object]:
    """The cache calls sent to a thread (sync_to_async) by the pages."""
    sent: list[object] = []

    def counting(function, *args: object, **kwargs: object):
        sent.append(function)
        return sync_to_async(function, *args, **kwargs)

    monkeypatch.setattr(page_cache, "sync_to_async", counting)
    return sent


def test_a_warm_read_of_the_local_memory_cache_takes_no_thread_hop(client, post, reader, settings, hops):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    add_comments(post, reader, 3)
    warm(client, post)
    hops.clear()
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get(comments_url(post)).status_code == 200
    assert hops == []


def test_a_warm_read_of_a_shared_cache_takes_one_thread_hop(client, post, reader, settings, hops, tmp_path):
    """Redis, or any cache outside the process: the post, its page index, count and comments in one hop."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": tmp_path}
    }
    add_comments(post, reader, 3)
    warm(client, post)
    hops.clear()
    assert "comment 3" in client.get(post.get_absolute_url()).content.decode()
    assert len(hops) == 1
    assert json_bodies(client, post) == ["comment 1", "comment 2", "comment 3"]
    assert len(hops) == 2


def test_a_change_heard_while_the_cache_is_down_is_not_an_error(post, monkeypatch, caplog):
    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(type(caches["default"]), "set", down)
    monkeypatch.setattr(page_cache, "_outage_logged_at", -page_cache.OUTAGE_LOG_SECONDS)
    post_versions.forget_changed_post(events.PostChanged(post_id=post.pk, published=True))
    assert [record.levelname for record in caplog.records] == ["WARNING"]


def test_posts_cached_before_a_deploy_that_changed_posts_fields_are_not_served(
    client, post, monkeypatch, django_assert_num_queries
):
    warm(client, post)
    monkeypatch.setattr(Post._meta, "concrete_fields", Post._meta.concrete_fields[:-1])
    post_versions.entry_format.cache_clear()
    try:
        with django_assert_num_queries(1):  # the post, read again
            assert client.get(comments_url(post)).status_code == 200
    finally:
        post_versions.entry_format.cache_clear()
