"""Bounded post pages and the JSON cursor: the newest comments, older ones a cursor away."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from blog import events
from blog.models import Comment, Post, User
from tests.factories import make_comment, make_post

pytestmark = pytest.mark.django_db

PAGE_SIZE = 50
EARLIER_LINK = '<a id="comments-earlier" class="comments-earlier" href="?before={}#comments">Show earlier comments</a>'
BAD_IDS = ["", "0", "-1", "x", "1.5", " 7", "+7", "1_000", "٣", str(2**63)]


def add_comments(post: Post, author: User, count: int, body: str = "comment {n}") -> list[int]:
    Comment.objects.bulk_create(Comment(post=post, author=author, body=body.format(n=n)) for n in range(1, count + 1))
    return list(post.comments.order_by("id").values_list("id", flat=True))


def shown_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li class="comment" id="comment-(\d+)"', html)]


def section_attribute(html: str, name: str) -> str:
    section = re.search(r'<section [^>]*id="comments-section"[^>]*>', html).group(0)
    return re.search(rf'{name}="([^"]*)"', section).group(1)


def comments_url(post: Post) -> str:
    return reverse("blog:post_comments", args=[post.pk])


def test_the_post_page_shows_the_newest_page_in_id_order_with_a_link_to_earlier_ones(reader_client, post, reader):
    ids = add_comments(post, reader, 120)
    html = reader_client.get(post.get_absolute_url()).content.decode()
    assert shown_ids(html) == ids[-PAGE_SIZE:]
    assert EARLIER_LINK.format(ids[-PAGE_SIZE]) in html
    assert html.index('id="comments-earlier"') < html.index('<ol id="comments"')
    assert section_attribute(html, "data-earlier-cursor") == str(ids[-PAGE_SIZE])
    assert section_attribute(html, "data-comment-count") == "120"
    assert section_attribute(html, "data-page-size") == str(PAGE_SIZE)
    assert section_attribute(html, "data-live") == "true"
    assert section_attribute(html, "data-last-comment-id") == str(ids[-1])
    assert '<h2 id="comments-heading">120 comments</h2>' in html
    assert 'id="comment-form"' in html


def test_earlier_pages_lead_back_to_the_first_comment_and_are_not_live(reader_client, post, reader):
    ids = add_comments(post, reader, 120)
    html = reader_client.get(post.get_absolute_url(), {"before": ids[70]}).content.decode()
    assert shown_ids(html) == ids[20:70]
    assert EARLIER_LINK.format(ids[20]) in html
    assert f'<a id="comments-newest" class="comments-newest" href="{post.get_absolute_url()}">' in html
    assert section_attribute(html, "data-live") == "false"
    assert 'id="comment-form"' not in html
    # The socket would still resume after the post's newest comment.
    assert section_attribute(html, "data-last-comment-id") == str(ids[-1])
    assert section_attribute(html, "data-comment-count") == "120"

    first_page = reader_client.get(post.get_absolute_url(), {"before": ids[20]}).content.decode()
    assert shown_ids(first_page) == ids[:20]
    assert 'id="comments-earlier"' not in first_page
    assert section_attribute(first_page, "data-earlier-cursor") == ""


def test_no_earlier_link_until_there_is_an_earlier_comment(client, post, reader):
    ids = add_comments(post, reader, PAGE_SIZE)
    html = client.get(post.get_absolute_url()).content.decode()
    assert shown_ids(html) == ids and 'id="comments-earlier"' not in html
    newer = make_comment(post, reader)
    events.publish(events.CommentCreated(newer))  # as comment_post does once it commits
    html = client.get(post.get_absolute_url()).content.decode()
    assert shown_ids(html) == [*ids[1:], newer.pk]
    assert EARLIER_LINK.format(ids[1]) in html


def test_the_page_size_is_a_setting(client, post, reader, settings):
    settings.BLOG_COMMENTS_PER_PAGE = 3
    ids = add_comments(post, reader, 5)
    html = client.get(post.get_absolute_url()).content.decode()
    assert shown_ids(html) == ids[-3:]
    assert section_attribute(html, "data-page-size") == "3"
    assert [c["id"] for c in client.get(comments_url(post)).json()["comments"]] == ids[-3:]


@pytest.mark.parametrize("before", BAD_IDS)
def test_a_bad_before_is_a_400_page_saying_so(client, post, before):
    response = client.get(post.get_absolute_url(), {"before": before})
    assert response.status_code == 400
    html = response.content.decode()
    assert "before must be a comment id (a positive whole number)." in html
    assert f'<a href="{post.get_absolute_url()}">Back to the post</a>' in html


@pytest.mark.parametrize(("count", "heading"), [(0, "0 comments"), (1, "1 comment"), (2000, "2,000 comments")])
def test_the_heading_counts_every_comment_of_the_post(client, post, reader, count, heading):
    add_comments(post, reader, count)
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'<h2 id="comments-heading">{heading}</h2>' in html
    assert section_attribute(html, "data-comment-count") == str(count)


def test_a_post_with_20000_comments_renders_a_page_under_150_kb(client, post, reader, editor):
    # Long comments, as a popular post gets, and a moderator's page with controls on every one.
    add_comments(post, reader, 20_000, body="{n} " + "words " * 60)
    for viewer in (None, editor):
        if viewer is not None:
            client.force_login(viewer)
        response = client.get(post.get_absolute_url())
        assert response.status_code == 200
        assert len(response.content) < 150_000, f"{len(response.content):,} bytes"
        assert len(shown_ids(response.content.decode())) == PAGE_SIZE


def test_json_without_a_cursor_is_the_newest_page(client, post, reader):
    ids = add_comments(post, reader, 120)
    data = client.get(comments_url(post)).json()
    assert [c["id"] for c in data["comments"]] == ids[-PAGE_SIZE:]
    assert (data["earlier"], data["last_id"]) == (ids[-PAGE_SIZE], ids[-1])


def test_json_before_a_cursor_pages_back_to_the_first_comment(client, post, reader):
    ids = add_comments(post, reader, 120)
    data = client.get(comments_url(post), {"before": ids[70], "limit": 30}).json()
    assert [c["id"] for c in data["comments"]] == ids[40:70]
    assert (data["earlier"], data["last_id"]) == (ids[40], ids[69])
    data = client.get(comments_url(post), {"before": ids[10], "limit": 30}).json()
    assert [c["id"] for c in data["comments"]] == ids[:10]
    assert data["earlier"] is None
    data = client.get(comments_url(post), {"before": ids[0]}).json()
    assert data == {"comments": [], "earlier": None, "last_id": None, "more_replies": {}}


def test_json_after_keeps_its_meaning(client, post, reader):
    ids = add_comments(post, reader, 250)
    data = client.get(comments_url(post), {"after": ids[0]}).json()
    # Without a limit, up to 200 as before: the page's script reads fewer as "nothing more".
    assert [c["id"] for c in data["comments"]] == ids[1:201]
    assert (data["earlier"], data["last_id"]) == (None, ids[200])
    data = client.get(comments_url(post), {"after": ids[200], "limit": 5}).json()
    assert [c["id"] for c in data["comments"]] == ids[201:206]
    assert [c["id"] for c in client.get(comments_url(post), {"after": ""}).json()["comments"]] == ids[:200]


@pytest.mark.parametrize("limit", ["1", "200"])
def test_json_limit_bounds_are_accepted(client, post, reader, limit):
    ids = add_comments(post, reader, 201)
    data = client.get(comments_url(post), {"limit": limit}).json()
    assert [c["id"] for c in data["comments"]] == ids[-int(limit) :]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        *[({"limit": limit}, "limit must be a whole number from 1 to 200.") for limit in ["0", "201", "x", "", "-1"]],
        *[({"before": before}, "before must be a comment id (a positive whole number).") for before in BAD_IDS],
        ({"after": "x"}, "after must be a comment id (a whole number)."),
        ({"after": str(2**63)}, "after must be a comment id (a whole number)."),
        ({"before": "5", "after": "1"}, "Give before or after, not both."),
    ],
)
def test_json_refuses_bad_cursors_with_400_and_a_message(client, post, reader, query, message):
    make_comment(post, reader)
    response = client.get(comments_url(post), query)
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": message}


def test_the_index_counts_each_posts_comments_in_one_query(client, author, reader, django_assert_num_queries):
    counts = {"Quiet": 0, "Chatty": 1, "Popular": 2000}
    for title, count in counts.items():
        add_comments(make_post(author, title=title), reader, count)
    # The paginator's count, then the posts with their authors and comment counts.
    with django_assert_num_queries(2):
        html = client.get("/blog/").content.decode()
    for text in ("0 comments", "1 comment<", "2,000 comments"):
        assert text in html
