"""Cached comment pages: never stale, never personal, few queries; Cache-Control says who may keep a page."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from django.contrib import messages
from django.test import Client
from django.urls import reverse

from blog import page_cache
from blog.comments import pages as comment_pages
from blog.comments import selectors as comment_selectors
from blog.comments import services as comment_services
from blog.models import COMMENT_EDIT_WINDOW, Comment, Post
from blog.posts import selectors as post_selectors
from blog.process_cache import cache
from tests.blog.comments.test_pages import add_comments, shown_ids
from tests.factories import make_comment, make_user

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NONCE = re.compile(r'<script [^>]*nonce="([^"]+)"')


def comments_url(post: Post) -> str:
    return reverse("blog:post_comments", args=[post.pk])


def json_bodies(client: Client, post: Post, **query: object) -> list[str]:
    return [comment["body"] for comment in client.get(comments_url(post), query).json()["comments"]]


def warm(client: Client, post: Post, before: int | None = None) -> None:
    """Read the page and the JSON once, so that the next reads could come from the cache."""
    query = {} if before is None else {"before": before}
    assert client.get(post.get_absolute_url(), query).status_code == 200
    assert client.get(comments_url(post), query).status_code == 200


def test_a_new_comment_shows_at_once_on_a_warm_page(client, post, reader, django_capture_on_commit_callbacks):
    make_comment(post, reader, body="the first")
    warm(client, post)
    with django_capture_on_commit_callbacks(execute=True):
        comment_services.comment_post(post=post, author=reader, body="just posted")
    assert "just posted" in client.get(post.get_absolute_url()).content.decode()
    assert json_bodies(client, post) == ["the first", "just posted"]
    assert "2 comments" in client.get(post.get_absolute_url()).content.decode()


def test_an_edit_shows_at_once_on_a_warm_page(client, post, reader, django_capture_on_commit_callbacks):
    comment = make_comment(post, reader, body="before the edit")
    make_comment(post, reader, body="a newer one")
    warm(client, post)
    with django_capture_on_commit_callbacks(execute=True):
        comment_services.comment_edit(comment=comment, actor=reader, body="after the edit")
    html = client.get(post.get_absolute_url()).content.decode()
    assert "after the edit" in html and "before the edit" not in html
    assert json_bodies(client, post) == ["after the edit", "a newer one"]


def test_a_deletion_shows_at_once_on_a_warm_page(client, post, reader, django_capture_on_commit_callbacks):
    comment = make_comment(post, reader, body="soon gone")
    make_comment(post, reader, body="a newer one")
    warm(client, post)
    with django_capture_on_commit_callbacks(execute=True):
        comment_services.comment_delete(comment=comment, actor=reader)
    html = client.get(post.get_absolute_url()).content.decode()
    assert "soon gone" not in html and "1 comment<" in html
    assert json_bodies(client, post) == ["a newer one"]


def test_an_edit_on_an_earlier_page_shows_at_once(client, post, reader, settings, django_capture_on_commit_callbacks):
    settings.BLOG_COMMENTS_PER_PAGE = 2
    add_comments(post, reader, 1)
    oldest = post.comments.get()
    newer = add_comments(post, reader, 2)[1:]
    warm(client, post, before=newer[0])
    with django_capture_on_commit_callbacks(execute=True):
        comment_services.comment_edit(comment=oldest, actor=reader, body="edited on page two")
    assert "edited on page two" in client.get(post.get_absolute_url(), {"before": newer[0]}).content.decode()
    assert json_bodies(client, post, before=newer[0]) == ["edited on page two"]


def test_the_cached_comments_carry_no_one_elses_token_or_controls(client, post, reader, editor):
    """An Editor reads first (controls on every comment); then a reader and anonymous readers."""
    readers_comment = make_comment(post, reader, body="by the reader")
    editors_comment = make_comment(post, editor, body="by the editor")
    client.force_login(editor)
    as_editor = client.get(post.get_absolute_url()).content.decode()
    editor_tokens = set(TOKEN.findall(as_editor))
    assert as_editor.count('class="comment-delete"') == 2

    client.force_login(reader)
    as_reader = client.get(post.get_absolute_url()).content.decode()
    assert not editor_tokens & set(TOKEN.findall(as_reader))
    assert as_reader.count('class="comment-delete"') == 1
    assert f'action="/blog/comments/{readers_comment.pk}/delete/"' in as_reader
    assert f'action="/blog/comments/{editors_comment.pk}/delete/"' not in as_reader

    client.logout()
    anonymous = client.get(post.get_absolute_url()).content.decode()
    assert "comment-actions" not in anonymous and "csrfmiddlewaretoken" not in anonymous
    assert shown_ids(anonymous) == [readers_comment.pk, editors_comment.pk]


def test_controls_are_added_to_a_page_an_anonymous_reader_cached(client, post, reader):
    comment = make_comment(post, reader)
    assert "comment-actions" not in client.get(post.get_absolute_url()).content.decode()
    client.force_login(reader)
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'href="/blog/comments/{comment.pk}/edit/"' in html
    assert len(set(TOKEN.findall(html))) >= 1


def test_each_comment_gets_the_controls_for_itself(client, post, reader, editor):
    """The controls are rendered once per variant and page; each comment's name that comment and no other."""
    editable = make_comment(post, reader, body="mine, recent")
    too_old = make_comment(post, reader, body="mine, past the edit window")
    Comment.objects.filter(pk=too_old.pk).update(created=too_old.created - COMMENT_EDIT_WINDOW * 2)
    others = make_comment(post, editor, body="someone else's")
    newest = make_comment(post, reader, body="mine, the newest")
    client.force_login(reader)
    html = client.get(post.get_absolute_url()).content.decode()
    assert re.findall(r'href="/blog/comments/(\d+)/edit/"', html) == [str(editable.pk), str(newest.pk)]
    assert re.findall(r'action="/blog/comments/(\d+)/delete/"', html) == [
        str(editable.pk),
        str(too_old.pk),
        str(newest.pk),
    ]
    assert shown_ids(html) == [editable.pk, too_old.pk, others.pk, newest.pk]
    assert comment_pages.ID_SLOT not in html


def test_each_anonymous_page_has_its_own_nonce(client, post, reader):
    make_comment(post, reader)
    first, second = (client.get(post.get_absolute_url()).content.decode() for _ in range(2))
    assert NONCE.search(first).group(1) != NONCE.search(second).group(1)


@pytest.mark.parametrize("count", [0, 5, 200])
def test_a_cold_anonymous_page_takes_three_queries(client, post, reader, django_assert_num_queries, count):
    add_comments(post, reader, count)
    # The post with its comment versions, the page of comments with their authors, the count.
    with django_assert_num_queries(3):
        assert client.get(post.get_absolute_url()).status_code == 200


def test_a_warm_page_for_a_logged_in_reader(client, post, reader, django_assert_num_queries):
    add_comments(post, reader, 60)
    client.get(post.get_absolute_url())
    client.force_login(reader)
    # The session, the user, the user's permissions (direct and through groups); while the page
    # renders, whether they follow the post and their unread notifications (the bell); the post is
    # cached (and says it has no held comments to look for).
    with django_assert_num_queries(6):
        html = client.get(post.get_absolute_url()).content.decode()
    assert html.count('class="comment-delete"') == 50


def cache_control(response) -> str:
    return response.headers.get("Cache-Control", "")


def test_anonymous_reads_may_be_kept_by_shared_caches_for_a_few_seconds(client, post, settings):
    settings.BLOG_PUBLIC_CACHE_SECONDS = 7
    for url in (post.get_absolute_url(), "/blog/", comments_url(post), f"{comments_url(post)}?after=0"):
        response = client.get(url)
        assert response.status_code == 200
        assert cache_control(response) == "public, max-age=7", url
        assert "Cookie" in response.headers["Vary"], url


def test_pages_for_logged_in_readers_and_drafts_are_private(client, post, draft, author):
    client.force_login(author)
    for url in (post.get_absolute_url(), draft.get_absolute_url(), "/blog/", comments_url(post)):
        response = client.get(url)
        assert response.status_code == 200
        assert cache_control(response) == "private, no-store", url


def test_a_page_that_sets_a_cookie_is_private(client, post):
    """A message shown to an anonymous reader is removed from its cookie by this very page."""
    client.cookies["messages"] = messages.storage.cookie.CookieStorage(None)._encode(
        [messages.storage.base.Message(messages.INFO, "Signed out.")]
    )
    response = client.get(post.get_absolute_url())
    assert "Signed out." in response.content.decode()
    assert response.cookies
    assert cache_control(response) == "private, no-store"


def test_refused_reads_are_not_made_public(client, post, draft):
    assert "public" not in cache_control(client.get(post.get_absolute_url(), {"before": "x"}))
    assert "public" not in cache_control(client.get(comments_url(post), {"limit": "0"}))
    assert "public" not in cache_control(client.get(draft.get_absolute_url()))


def test_a_form_with_a_csrf_token_is_private(client):
    """The signup form's token comes with a CSRF cookie."""
    response = client.get(reverse("signup"))
    assert response.cookies and cache_control(response) == "private, no-store"


def test_a_comment_saved_over_http_is_answered_privately(client, post):
    client.force_login(make_user())
    response = client.post(comments_url(post), {"body": "hello"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201 and Comment.objects.count() == 1
    assert cache_control(response) == "private, no-store"


def test_a_page_holds_only_the_comments_its_versions_name(post, reader):
    """A comment saved between reading the post and reading its page waits for the next versions."""
    make_comment(post, reader, body="seen")
    loaded = async_to_sync(post_selectors.visible_post_with_versions)(reader, post.pk)
    make_comment(post, reader, body="after the post was read")
    page = async_to_sync(comment_selectors.threads_before)(loaded, before=None, limit=50, replies_shown=3)
    assert [comment.body for comment in page.comments] == ["seen"]
    assert async_to_sync(comment_selectors.comment_count)(loaded) == 1


@pytest.fixture
def renders(monkeypatch) -> list[int]:
    """The ids of the comments rendered (HTML or JSON) from the database, in order."""
    rendered: list[int] = []
    for name in ("render_html", "render_json"):
        original = getattr(comment_pages, name)

        def counting(comment, original=original):
            rendered.append(comment.pk)
            return original(comment)

        monkeypatch.setattr(comment_pages, name, counting)
    return rendered


def test_a_new_comment_renders_only_itself_again(client, post, reader, renders, django_capture_on_commit_callbacks):
    ids = add_comments(post, reader, 10)
    client.get(post.get_absolute_url())
    assert renders == ids
    with django_capture_on_commit_callbacks(execute=True):
        newest = comment_services.comment_post(post=post, author=reader, body="the newest").comment
    assert "the newest" in client.get(post.get_absolute_url()).content.decode()
    assert renders == [*ids, newest.pk]


def test_each_comment_is_rendered_once_whatever_the_cursors_asked(client, post, reader, renders):
    """Pages of many cursors share the comments' pieces: asking for every cursor stores each text once."""
    ids = add_comments(post, reader, 60)
    for before in ids[1:]:
        assert client.get(comments_url(post), {"before": before, "limit": 20}).status_code == 200
    assert sorted(renders) == ids[:-1]


def test_pieces_gone_from_the_cache_are_read_again_and_deleted_comments_left_out(
    client, post, reader, django_assert_num_queries
):
    ids = add_comments(post, reader, 5)
    client.get(post.get_absolute_url())
    # Gone without a trace in the versions (as a cascade would), and every piece evicted.
    cache.delete_many([comment_pages.CommentStamp.of(c).piece_key("h") for c in Comment.objects.all()])
    Comment.objects.filter(pk=ids[1]).delete()
    with django_assert_num_queries(1):  # the comments whose pieces were missing (the post is cached)
        html = client.get(post.get_absolute_url()).content.decode()
    assert shown_ids(html) == [ids[0], *ids[2:]]


def test_with_the_cache_down_pages_are_rendered_from_the_database(client, post, reader, monkeypatch, caplog):
    """Redis down must not take the post page with it: the cache is an optimisation, not a source."""
    make_comment(post, reader, body="still shown")

    async def down(*args: object) -> None:
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(page_cache, "_cache_get_many", down)
    monkeypatch.setattr(page_cache, "_cache_set_many", down)
    monkeypatch.setattr(page_cache, "_outage_logged_at", -page_cache.OUTAGE_LOG_SECONDS)
    page = client.get(post.get_absolute_url())
    assert page.status_code == 200 and "still shown" in page.content.decode()
    assert json_bodies(client, post) == ["still shown"]
    assert [record.message for record in caplog.records if "page cache" in record.message] == [
        "page cache unavailable, rendering from the database"
    ], "said once, not at every read"
