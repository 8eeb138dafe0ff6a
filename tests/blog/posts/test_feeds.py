"""Atom feeds: the blog's posts, each tag's, each post's comments; never a draft nor a comment readers cannot see."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from blog.comments import services as comment_services
from blog.models import Comment, Post
from blog.moderation import services as moderation_services
from blog.posts.feeds import FEED_ENTRIES
from tests.factories import make_comment, make_post, make_reply, make_user

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def feed(client, url: str) -> ElementTree.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own feed, in a test


def entries(client, url: str) -> list[dict[str, object]]:
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "id": entry.findtext(f"{ATOM}id"),
            "updated": datetime.fromisoformat(entry.findtext(f"{ATOM}updated")),
            "summary": entry.findtext(f"{ATOM}summary"),
            "author": entry.findtext(f"{ATOM}author/{ATOM}name"),
            "categories": [category.get("term") for category in entry.findall(f"{ATOM}category")],
        }
        for entry in feed(client, url).findall(f"{ATOM}entry")
    ]


def comments_feed_url(post: Post) -> str:
    return f"/blog/posts/{post.pk}/comments/feed/"


def test_the_posts_feed_lists_published_posts_newest_first_and_never_a_draft(client, author):
    make_post(author, title="First")
    second = make_post(author, title="Second", body="**Bold** words")
    second.tags.set(["news", "Django"])
    make_post(author, title="Unpublished draft", published=False)
    found = entries(client, "/blog/feed/")
    assert [entry["title"] for entry in found] == ["Second", "First"]
    assert found[0]["link"] == f"http://testserver{second.get_absolute_url()}"
    assert found[0]["summary"] == "<p><strong>Bold</strong> words</p>"
    assert found[0]["author"] == author.username
    assert found[0]["categories"] == ["Django", "news"]


def test_a_feed_carries_a_bounded_number_of_entries(client, author):
    Post.objects.bulk_create(
        Post(author=author, title=f"Bulk {n}", body="b", status=Post.Status.PUBLISHED, published_at=timezone.now())
        for n in range(FEED_ENTRIES + 5)
    )
    assert len(entries(client, "/blog/feed/")) == FEED_ENTRIES


def test_a_posts_entry_is_updated_when_the_post_is_edited(client, author):
    post = make_post(author, title="Edited later")
    before = entries(client, "/blog/feed/")[0]["updated"]
    post.body = "A second version."
    post.save()
    [entry] = entries(client, "/blog/feed/")
    assert entry["updated"] > before and entry["summary"] == "<p>A second version.</p>"


def test_a_post_body_reaches_the_feed_sanitised(client, author):
    make_post(author, body='Hi <script>alert(1)</script><img src="x" onerror="alert(2)">')
    [entry] = entries(client, "/blog/feed/")
    assert "<script" not in entry["summary"] and "onerror" not in entry["summary"]


def test_a_tag_feed_lists_its_published_posts_only(client, author):
    for title, published in [("Tagged", True), ("Tagged draft", False)]:
        make_post(author, title=title, published=published).tags.add("topic")
    make_post(author, title="Untagged")
    root = feed(client, "/blog/tags/topic/feed/")
    assert root.findtext(f"{ATOM}title") == "asgi_blog: posts tagged topic"
    assert [entry["title"] for entry in entries(client, "/blog/tags/topic/feed/")] == ["Tagged"]


def test_a_tag_only_drafts_carry_has_no_feed(client, author):
    make_post(author, published=False).tags.add("unannounced")
    assert client.get("/blog/tags/unannounced/feed/").status_code == 404
    assert client.get("/blog/tags/never-made/feed/").status_code == 404


def test_the_comments_feed_lists_the_posts_public_comments_newest_first(client, post, reader):
    first = make_comment(post, reader, body="First **comment**")
    make_reply(first, make_user("replier"), body="A reply")
    found = entries(client, comments_feed_url(post))
    assert [entry["summary"] for entry in found] == ["<p>A reply</p>", "<p>First <strong>comment</strong></p>"]
    assert [entry["title"] for entry in found] == ["replier commented", "reader commented"]
    assert found[1]["link"] == f"http://testserver{first.permalink()}"


def test_the_comments_feed_never_shows_what_readers_cannot_see(client, post, reader):
    moderator = make_user("mod", moderator=True)
    make_comment(post, reader, body="visible")
    make_comment(post, reader, body="held text", status=Comment.Status.PENDING)
    make_comment(post, reader, body="rejected text", status=Comment.Status.REJECTED)
    hidden = make_comment(post, reader, body="hidden text")
    make_reply(hidden, reader, body="reply under hidden")
    moderation_services.comment_hide(comment_id=hidden.pk, actor=moderator)
    deleted = make_comment(post, reader, body="deleted text with a reply")
    make_reply(deleted, make_user("other"), body="reply to deleted")
    comment_services.comment_delete(comment=deleted, actor=reader)
    assert Comment.objects.filter(pk=deleted.pk, deleted__isnull=False).exists()  # the placeholder stays
    summaries = [entry["summary"] for entry in entries(client, comments_feed_url(post))]
    assert summaries == ["<p>reply to deleted</p>", "<p>visible</p>"]


def test_a_comment_entry_is_updated_when_the_comment_is_edited(client, post, reader):
    comment = make_comment(post, reader, body="before")
    [entry] = entries(client, comments_feed_url(post))
    assert entry["updated"] == comment.created
    comment_services.comment_edit(comment=comment, actor=reader, body="after")
    comment.refresh_from_db()
    [entry] = entries(client, comments_feed_url(post))
    assert entry["updated"] == comment.edited > comment.created and entry["summary"] == "<p>after</p>"


def test_a_drafts_comments_feed_is_404(client, draft, author):
    make_comment(draft, author, body="on a draft")
    assert client.get(comments_feed_url(draft)).status_code == 404
    assert client.get("/blog/posts/999999/comments/feed/").status_code == 404


def test_the_comments_feed_carries_a_bounded_number_of_entries(client, post, reader):
    Comment.objects.bulk_create(Comment(post=post, author=reader, body=f"#{n}") for n in range(FEED_ENTRIES + 3))
    assert len(entries(client, comments_feed_url(post))) == FEED_ENTRIES


def test_anonymous_feeds_may_be_kept_by_shared_caches_for_a_few_seconds(client, post, settings):
    settings.BLOG_PUBLIC_CACHE_SECONDS = 7
    post.tags.add("cached")
    for url in ("/blog/feed/", "/blog/tags/cached/feed/", comments_feed_url(post)):
        assert client.get(url)["Cache-Control"] == "public, max-age=7"


def feed_links(html: str) -> list[str]:
    return re.findall(r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" href="([^"]+)">', html)


def test_pages_advertise_their_feeds_in_their_head(client, post, draft, author):
    post.tags.add("advertised")
    head = {url: client.get(url).content.decode().split("</head>")[0] for url in ("/blog/", "/blog/tags/advertised/")}
    assert feed_links(head["/blog/"]) == ["/blog/feed/"]
    assert feed_links(head["/blog/tags/advertised/"]) == ["/blog/tags/advertised/feed/"]
    assert feed_links(client.get(post.get_absolute_url()).content.decode()) == [comments_feed_url(post)]
    client.force_login(author)  # a draft's page, for its author, has no feed to advertise
    assert feed_links(client.get(draft.get_absolute_url()).content.decode()) == []


def test_feeds_say_when_they_last_changed(client, post, reader):
    comment = make_comment(post, reader)
    comment.created = timezone.now() + timedelta(minutes=1)  # the newest entry's time is the feed's
    comment.save(update_fields=["created"])
    updated = feed(client, comments_feed_url(post)).findtext(f"{ATOM}updated")
    assert datetime.fromisoformat(updated) == comment.created
