"""/notifications/ (HTML and JSON), marking read, following a post, and the bell on every page."""

from __future__ import annotations

import pytest

from blog.comments import services as comment_services
from blog.models import Follow, Notification, Post
from tests.factories import make_post
from tests.realtime.conftest import logged_in_client

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def author_browser(author):
    return logged_in_client(author)


def comment_by(reader, post, body="A comment.") -> int:
    return comment_services.comment_post(post=post, author=reader, body=body).comment.pk


def test_the_list_as_json_newest_first_with_the_unread_count(author_browser, author, reader, post):
    first, second = comment_by(reader, post, "One."), comment_by(reader, post, "Two.")
    answer = author_browser.get("/notifications/", **JSON).json()
    assert answer["unread"] == 2
    assert [n["comment"] for n in answer["notifications"]] == [second, first]
    assert answer["notifications"][0] == {
        "id": answer["notifications"][0]["id"],
        "kind": "comment",
        "post": post.pk,
        "comment": second,
        "actor": "reader",
        "created": answer["notifications"][0]["created"],
        "read": False,
        "note": "",
    }
    assert answer["next_before"] is None


def test_the_list_is_paginated_by_cursor(author_browser, author, reader, post, settings):
    settings.BLOG_COMMENT_RATE_LIMIT = None
    ids = [comment_by(reader, post, f"Comment {n}.") for n in range(25)]
    first_page = author_browser.get("/notifications/", **JSON).json()
    assert len(first_page["notifications"]) == 20
    rest = author_browser.get(f"/notifications/?before={first_page['next_before']}", **JSON).json()
    seen = [n["comment"] for n in first_page["notifications"] + rest["notifications"]]
    assert seen == ids[::-1]
    assert rest["next_before"] is None


def test_the_page_links_each_notification_to_its_comment(author_browser, reader, post):
    comment_id = comment_by(reader, post, "Look at <this>.")
    page = author_browser.get("/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/blog/posts/{post.pk}/?before={comment_id + 1}#comment-{comment_id}" in html
    assert "Look at &lt;this&gt;." in html
    assert page["Cache-Control"].startswith("max-age=0")


def test_a_bad_cursor_is_a_clear_400(author_browser):
    assert author_browser.get("/notifications/?before=x", **JSON).status_code == 400
    page = author_browser.get("/notifications/?before=-1")
    assert page.status_code == 400
    assert "before must be" in page.content.decode()


def test_anonymous_readers_are_sent_to_log_in_or_told_401(client):
    assert client.get("/notifications/")["Location"].startswith("/accounts/login/")
    answer = client.get("/notifications/", **JSON)
    assert answer.status_code == 401
    assert answer.json()["code"] == "login_required"
    assert client.post("/notifications/read/", **JSON).status_code == 401


def test_marking_one_then_all_read(author_browser, author, reader, post):
    comment_by(reader, post, "One.")
    comment_by(reader, post, "Two.")
    one = Notification.objects.filter(recipient=author).first()
    assert author_browser.post("/notifications/read/", {"id": one.pk}, **JSON).json() == {"unread": 1}
    assert author_browser.post("/notifications/read/", **JSON).json() == {"unread": 0}
    # A browser goes back to the list, told.
    response = author_browser.post("/notifications/read/", follow=True)
    assert "All your notifications are marked read." in response.content.decode()


def test_reading_someone_elses_notification_is_404_and_a_bad_id_400(client, author, reader, post):
    comment_by(reader, post)
    notification = Notification.objects.get(recipient=author)
    reader_browser = logged_in_client(reader)
    assert reader_browser.post("/notifications/read/", {"id": notification.pk}, **JSON).status_code == 404
    assert reader_browser.post("/notifications/read/", {"id": "1; drop"}, **JSON).status_code == 400
    assert Notification.objects.get(pk=notification.pk).read is None


def test_read_goes_back_only_to_this_site(author_browser, author, reader, post):
    comment_by(reader, post)
    notification = Notification.objects.get(recipient=author)
    evil = author_browser.post("/notifications/read/", {"id": notification.pk, "next": "https://evil.example/"})
    assert evil["Location"] == "/notifications/"


def test_follow_and_unfollow_without_javascript(reader, post):
    browser = logged_in_client(reader)
    page = browser.get(f"/blog/posts/{post.pk}/").content.decode()
    assert "Follow new comments" in page
    response = browser.post(f"/blog/posts/{post.pk}/follow/", {"following": "1"}, follow=True)
    assert "Following · Unfollow" in response.content.decode()
    assert Follow.objects.get(user=reader, post=post).following
    assert browser.post(f"/blog/posts/{post.pk}/follow/", {"following": "0"}, **JSON).json() == {"following": False}
    assert not Follow.objects.get(user=reader, post=post).following


def test_following_needs_a_login_and_a_readable_post(client, author, reader, draft):
    assert client.post(f"/blog/posts/{draft.pk}/follow/", **JSON).status_code == 401
    assert logged_in_client(reader).post(f"/blog/posts/{draft.pk}/follow/").status_code == 404
    # Its author can read the draft, but there is nothing to follow yet.
    assert logged_in_client(author).post(f"/blog/posts/{draft.pk}/follow/", **JSON).status_code == 403
    assert not Follow.objects.exists()


def test_every_page_of_a_signed_in_user_shows_the_bell_with_the_unread_count(author_browser, reader, post):
    other = make_post(post.author, title="Another")
    comment_by(reader, post)
    comment_by(reader, other)
    for url in ("/blog/", f"/blog/posts/{post.pk}/", "/notifications/"):
        html = author_browser.get(url).content.decode()
        assert 'id="notification-bell"' in html
        assert 'data-unread="2"' in html, url
    Post.objects.filter(pk=other.pk).update(status=Post.Status.DRAFT)
    assert 'data-unread="1"' in author_browser.get("/blog/").content.decode()


def test_anonymous_pages_have_no_bell(client, post):
    assert 'id="notification-bell"' not in client.get(f"/blog/posts/{post.pk}/").content.decode()


def test_the_link_to_a_comment_shows_it_however_many_came_after(client, settings, reader, post):
    """The post page shows only the newest threads and each thread's first replies."""
    settings.BLOG_COMMENT_RATE_LIMIT = None
    settings.BLOG_COMMENTS_PER_PAGE = 2
    settings.BLOG_REPLIES_SHOWN = 1
    old = comment_services.comment_post(post=post, author=reader, body="An old one.").comment
    replies = [
        comment_services.comment_post(post=post, author=reader, body=f"Reply {n}.", parent_id=old.pk).comment
        for n in range(3)
    ]
    for n in range(3):
        comment_by(reader, post, f"Newer {n}.")
    newest_page = client.get(post.get_absolute_url()).content.decode()
    for comment in (old, replies[-1]):
        assert f'id="comment-{comment.pk}"' not in newest_page
        path, anchor = comment.permalink().split("#")
        page = client.get(path)
        assert page.status_code == 200
        assert f'id="{anchor}"' in page.content.decode()


def test_an_author_follows_their_own_post_until_they_unfollow(author_browser, author, reader, post):
    assert "Following · Unfollow" in author_browser.get(post.get_absolute_url()).content.decode()
    author_browser.post(f"/blog/posts/{post.pk}/follow/", {"following": "0"})
    page = author_browser.get(post.get_absolute_url()).content.decode()
    assert "Follow new comments" in page
    comment_by(reader, post)
    assert 'data-unread="0"' in author_browser.get(post.get_absolute_url()).content.decode()
