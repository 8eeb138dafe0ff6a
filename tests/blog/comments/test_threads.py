"""Long threads stay bounded: a page shows each thread's first replies and a link to the rest,
which is read a page at a time, as HTML without the script and as JSON with it."""

from __future__ import annotations

import re

import pytest

from blog.comments import cursors
from tests.factories import make_comment, make_reply

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def comments_url(post) -> str:
    return f"/blog/posts/{post.pk}/comments/"


@pytest.fixture
def long_thread(post, author, reader):
    """A comment with 10 replies (the third answers the first), and a quiet comment after it."""
    top = make_comment(post, author, body="Start")
    replies = [make_reply(top, reader, body=f"reply {n}") for n in range(2)]
    replies.append(make_reply(replies[0], author, body="reply 2"))
    replies += [make_reply(top, reader, body=f"reply {n}") for n in range(3, 10)]
    quiet = make_comment(post, reader, body="Quiet")
    return top, replies, quiet


def test_the_post_page_shows_each_threads_first_replies_nested_and_a_link_to_the_rest(client, post, long_thread):
    top, replies, quiet = long_thread
    page = client.get(post.get_absolute_url()).content.decode()
    shown = [int(n) for n in re.findall(r'<li class="comment" id="comment-(\d+)"', page)]
    assert shown == [top.pk, replies[0].pk, replies[2].pk, replies[1].pk, quiet.pk]
    assert "reply 3" not in page
    link = f'href="/blog/comments/{top.pk}/replies/?after={replies[2].pk}"'
    assert link in page and "Show 7 more replies" in page
    # The third reply answers the first, so it sits in the first's list of replies.
    first = page[page.index(f'id="comment-{replies[0].pk}"') : page.index(f'id="comment-{replies[1].pk}"')]
    assert '<ol class="comment-replies">' in first and f'id="comment-{replies[2].pk}"' in first
    assert '<h2 id="comments-heading">12 comments</h2>' in page


def test_the_json_page_is_bounded_the_same_way(client, post, long_thread):
    top, replies, quiet = long_thread
    data = client.get(comments_url(post), **JSON).json()
    assert [c["id"] for c in data["comments"]] == [top.pk, replies[0].pk, replies[1].pk, replies[2].pk, quiet.pk]
    assert data["more_replies"] == {str(top.pk): 7}


def test_the_rest_of_a_thread_is_read_a_page_at_a_time_as_json(client, post, long_thread):
    top, replies, _ = long_thread
    data = client.get(comments_url(post), {"thread": top.pk, "after": replies[2].pk, "limit": 4}, **JSON).json()
    assert [c["id"] for c in data["comments"]] == [r.pk for r in replies[3:7]]
    assert data["last_id"] == replies[6].pk
    data = client.get(comments_url(post), {"thread": top.pk, "after": data["last_id"], "limit": 4}, **JSON).json()
    assert [c["id"] for c in data["comments"]] == [r.pk for r in replies[7:]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"thread": "x"}, cursors.MESSAGE_BAD_THREAD),
        ({"thread": "0"}, cursors.MESSAGE_BAD_THREAD),
        ({"thread": "1", "before": "5"}, cursors.MESSAGE_THREAD_AND_BEFORE),
    ],
)
def test_a_bad_thread_cursor_is_a_400_with_a_message(client, post, query, message):
    response = client.get(comments_url(post), query, **JSON)
    assert response.status_code == 400 and response.json()["message"] == message


def test_without_the_script_the_link_leads_to_the_threads_own_pages(client, post, long_thread, settings):
    settings.BLOG_COMMENTS_PER_PAGE = 4
    top, replies, _ = long_thread
    page = client.get(f"/blog/comments/{top.pk}/replies/", {"after": replies[2].pk}).content.decode()
    shown = [int(n) for n in re.findall(r'<li class="comment" id="comment-(\d+)"', page)]
    assert shown == [top.pk] + [r.pk for r in replies[3:7]]
    assert f'href="?after={replies[6].pk}"' in page
    last = client.get(f"/blog/comments/{top.pk}/replies/", {"after": replies[6].pk}).content.decode()
    assert "reply 9" in last and "More replies" not in last


def test_a_thread_page_is_only_for_top_level_comments_of_posts_the_reader_may_see(client, post, draft, author):
    top = make_comment(post, author)
    answer = make_reply(top, author)
    assert client.get(f"/blog/comments/{answer.pk}/replies/").status_code == 404
    hidden = make_comment(draft, author)
    assert client.get(f"/blog/comments/{hidden.pk}/replies/").status_code == 404
    assert client.get(f"/blog/comments/{top.pk}/replies/", {"after": "x"}).status_code == 400
