"""Threads sorted oldest first (the default), newest first or most liked, by plain links, each sort
with its own cursor pages; replies stay in the order of the conversation."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from blog.comments import cursors, likes, pages, selectors
from blog.models import Comment
from blog.posts import selectors as post_selectors
from tests.factories import make_comment, make_reply, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
TOP_LEVEL = re.compile(r'<li class="comment[^"]*" id="comment-(\d+)" data-comment-id="\d+" data-parent-id=""')
ANY = re.compile(r'<li class="comment[^"]*" id="comment-(\d+)"')


@pytest.fixture
def threads(post, author):
    """Seven threads; their like counts (set as comment_like keeps them) make ties and a clear order."""
    counts = [2, 0, 5, 2, 0, 1, 5]
    tops = [make_comment(post, author, body=f"thread {n}") for n in range(len(counts))]
    for top, count in zip(tops, counts, strict=True):
        Comment.objects.filter(pk=top.pk).update(like_count=count)
    return tops, counts


def liked_order(tops, counts) -> list[int]:
    return [top.pk for top, _ in sorted(zip(tops, counts, strict=True), key=lambda pair: (-pair[1], -pair[0].pk))]


def top_level(html: str) -> list[int]:
    return [int(n) for n in TOP_LEVEL.findall(html)]


def test_each_sort_orders_the_threads_and_keeps_replies_in_conversation_order(client, post, threads, reader):
    tops, counts = threads
    replies = [make_reply(tops[2], reader, body=f"reply {n}") for n in range(2)]
    url = post.get_absolute_url()
    oldest = client.get(url).content.decode()
    assert top_level(oldest) == [top.pk for top in tops]
    assert top_level(client.get(f"{url}?sort=oldest").content.decode()) == [top.pk for top in tops]
    assert top_level(client.get(f"{url}?sort=newest").content.decode()) == [top.pk for top in reversed(tops)]
    liked = client.get(f"{url}?sort=liked").content.decode()
    assert top_level(liked) == liked_order(tops, counts)
    shown = [int(n) for n in ANY.findall(liked)]
    start = shown.index(tops[2].pk)
    assert shown[start : start + 3] == [tops[2].pk, replies[0].pk, replies[1].pk]


def test_the_sort_links_work_without_the_script_and_mark_the_current_one(client, post, threads):
    page = client.get(f"{post.get_absolute_url()}?sort=newest").content.decode()
    url = post.get_absolute_url()
    assert f'<a href="{url}#comments">Oldest first</a>' in page
    assert f'<a href="{url}?sort=newest#comments" aria-current="page">Newest first</a>' in page
    assert f'<a href="{url}?sort=liked#comments">Most liked</a>' in page
    assert 'data-sort="newest"' in page


def walk(client, url: str) -> list[list[int]]:
    """Every page of a sort, following its "more" link (or the earlier one) to the end."""
    seen = []
    while url is not None:
        html = client.get(url).content.decode()
        seen.append(top_level(html))
        found = re.search(r'<a id="comments-(?:more|earlier)" class="[^"]+" href="([^"]+)"', html)
        url = None if found is None else "/blog/posts/" + url.split("/")[3] + "/" + found.group(1).replace("&amp;", "&")
    return seen


@pytest.mark.parametrize("sort", ["oldest", "newest", "liked"])
def test_the_cursor_pages_of_each_sort_show_every_thread_once_in_order(client, post, threads, settings, sort):
    settings.BLOG_COMMENTS_PER_PAGE = 3
    tops, counts = threads
    pages_seen = walk(client, f"{post.get_absolute_url()}?sort={sort}")
    assert [len(page) for page in pages_seen] == [3, 3, 1]
    if sort == "oldest":  # the newest threads first, each page in id order
        assert pages_seen == [[t.pk for t in tops[4:]], [t.pk for t in tops[1:4]], [tops[0].pk]]
    elif sort == "newest":
        assert sum(pages_seen, []) == [top.pk for top in reversed(tops)]
    else:
        assert sum(pages_seen, []) == liked_order(tops, counts)


def test_a_liked_cursor_is_the_last_threads_count_and_id(client, post, threads, settings):
    settings.BLOG_COMMENTS_PER_PAGE = 3
    tops, counts = threads
    order = liked_order(tops, counts)
    third = Comment.objects.get(pk=order[2])
    first = client.get(f"/blog/posts/{post.pk}/comments/?sort=liked", **JSON).json()
    assert [comment["id"] for comment in first["comments"]] == order[:3]
    assert first["earlier"] == f"{third.like_count}.{third.pk}"
    second = client.get(f"/blog/posts/{post.pk}/comments/?sort=liked&before={first['earlier']}", **JSON).json()
    assert [comment["id"] for comment in second["comments"]] == order[3:6]


@pytest.mark.parametrize(
    "query",
    [
        "sort=best",
        "sort=",
        "sort=liked&before=7",
        "sort=liked&before=1.x",
        "sort=liked&before=-1.3",
        "sort=newest&before=2.5",
    ],
)
def test_a_bad_sort_or_cursor_is_refused_with_a_message(client, post, threads, query):
    page = client.get(f"{post.get_absolute_url()}?{query}")
    assert page.status_code == 400
    listed = client.get(f"/blog/posts/{post.pk}/comments/?{query}", **JSON)
    assert listed.status_code == 400
    assert listed.json()["code"] == "invalid"
    assert escape(listed.json()["message"]) in page.content.decode()


def test_sort_is_refused_with_the_flat_cursors(client, post, threads):
    for query in ("sort=liked&after=0", "sort=newest&thread=1"):
        answer = client.get(f"/blog/posts/{post.pk}/comments/?{query}", **JSON)
        assert answer.status_code == 400
        assert answer.json()["message"] == cursors.MESSAGE_SORT_WITH_AFTER


def test_each_sort_has_its_own_cache_keys(client, post, threads):
    post = Post_with_versions(post)
    keys = {pages.html_keys(post, None, 50, sort)[0] for sort in cursors.SORTS}
    assert len(keys) == 3
    # The default's key is the one it always had, so no cached page of it is lost.
    assert pages.html_keys(post, None, 50)[0] == pages.html_keys(post, None, 50, "oldest")[0]
    # One sort served from the cache never answers for another.
    url = post.get_absolute_url()
    client.get(url)
    assert top_level(client.get(f"{url}?sort=newest").content.decode())[0] == threads[0][-1].pk


def Post_with_versions(post):  # noqa: N802 - reads as the thing it returns
    from asgiref.sync import async_to_sync

    return async_to_sync(post_selectors.visible_post_with_versions)(make_user(), post.pk)


def test_a_like_reorders_the_liked_page_at_its_next_read(client, post, threads, django_capture_on_commit_callbacks):
    tops, counts = threads
    url = f"{post.get_absolute_url()}?sort=liked"
    assert top_level(client.get(url).content.decode())[0] != tops[1].pk
    fans = [make_user() for _ in range(6)]
    with django_capture_on_commit_callbacks(execute=True):
        for fan in fans:
            likes.comment_like(comment=tops[1], actor=fan, liked=True)
    assert top_level(client.get(url).content.decode())[0] == tops[1].pk


@pytest.mark.parametrize("sort", ["newest", "liked"])
def test_a_sorted_page_takes_as_many_queries_as_the_default(client, post, threads, django_assert_num_queries, sort):
    # Cold: the post with its versions, the page of comments with their authors, the count.
    with django_assert_num_queries(3):
        assert client.get(f"{post.get_absolute_url()}?sort={sort}").status_code == 200
    with django_assert_num_queries(0):
        assert client.get(f"{post.get_absolute_url()}?sort={sort}").status_code == 200


def test_a_most_liked_page_reads_its_threads_from_a_keyset_cursor(post, threads):
    """A row comparison on (like_count, id): the database starts at the cursor in the index, however deep."""
    from asgiref.sync import async_to_sync

    full = Post_with_versions(post)
    with CaptureQueriesContext(connection) as queries:
        async_to_sync(selectors.threads_before)(
            full, before=cursors.LikedCursor(likes=2, id=threads[0][3].pk), limit=3, replies_shown=3, sort="liked"
        )
    [sql] = [query["sql"] for query in queries.captured_queries]
    assert re.search(r'\("(\w+)"\."like_count", "\1"\."id"\) < \(2, \d+\)', sql), sql
    assert re.search(r'ORDER BY "\w+"\."like_count" DESC, \S+ DESC LIMIT 4', sql), sql
