"""Atom feeds of published posts: the blog's, and each tag's.

Django's syndication framework (Atom1Feed). An entry is the post as stored: its body_html,
rendered and sanitised when the post was saved, its tags as categories (read in the posts'
query, blog/posts/tags.py), `updated` from the post's last save. Drafts are never in a feed:
the entries come from the selectors every page uses. FEED_ENTRIES bounds each feed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from asgiref.sync import sync_to_async
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from taggit.models import Tag

from blog.cache_control import shared_when_anonymous
from blog.posts import selectors
from blog.posts.models import Post

FEED_ENTRIES = 30
SITE_TITLE = "asgi_blog"


def async_feed(feed: Feed) -> Callable[..., Awaitable[HttpResponse]]:
    """The feed as an async view whose anonymous answers shared caches may keep (blog/cache_control.py).

    Django's feeds are sync views: the feed runs in a thread, as Django would run it.
    """

    async def view(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        return await sync_to_async(feed)(request, *args, **kwargs)

    return shared_when_anonymous(view)


class PostEntries(Feed):
    """What both post feeds say of each post."""

    feed_type = Atom1Feed

    def item_title(self, post: Post) -> str:
        return post.title

    def item_description(self, post: Post) -> str:
        return post.body_html  # sanitised HTML, stored when the post was saved (blog/posts/markup.py)

    def item_author_name(self, post: Post) -> str:
        return post.author.get_username()

    def item_pubdate(self, post: Post) -> datetime | None:
        return post.published_at

    def item_updateddate(self, post: Post) -> datetime:
        return post.updated

    def item_categories(self, post: Post) -> list[str]:
        return [tag.name for tag in post.tag_links]


class LatestPostsFeed(PostEntries):
    title = SITE_TITLE
    subtitle = "The latest posts."

    def link(self) -> str:
        return reverse("blog:post_list")

    def items(self) -> list[Post]:
        return list(selectors.published_posts()[:FEED_ENTRIES])


class TagFeed(PostEntries):
    def get_object(self, request: HttpRequest, slug: str) -> Tag:
        tag = Tag.objects.filter(slug=slug).first()
        if tag is None or not selectors.published_posts().tagged(slug).exists():
            raise Http404("No published post has this tag.")
        return tag

    def title(self, tag: Tag) -> str:
        return f"{SITE_TITLE}: posts tagged {tag.name}"

    def link(self, tag: Tag) -> str:
        return reverse("blog:tag_posts", args=[tag.slug])

    def items(self, tag: Tag) -> list[Post]:
        return list(selectors.published_posts().tagged(tag.slug)[:FEED_ENTRIES])


latest_posts_feed = async_feed(LatestPostsFeed())
tag_feed = async_feed(TagFeed())
