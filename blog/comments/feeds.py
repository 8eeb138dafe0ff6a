"""The Atom feed of a post's comments (/blog/posts/<id>/comments/feed/).

The newest FEED_ENTRIES comments every reader of the post sees (newest_public_comments): never
one held, hidden, rejected or under a hidden one, nor the placeholder a deleted comment leaves,
so no feed keeps a comment's words once a page would not show them. A draft has no feed (404).
An entry's `updated` is its last edit; its content the body_html stored when it was saved.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.utils.feedgenerator import Atom1Feed

from blog.comments import selectors
from blog.comments.models import Comment
from blog.posts.feeds import FEED_ENTRIES, SITE_TITLE, async_feed
from blog.posts.models import Post


class PostCommentsFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, post_id: int) -> Post:
        post = Post.objects.published().filter(pk=post_id).first()
        if post is None:
            raise Http404("No such post.")
        return post

    def title(self, post: Post) -> str:
        return f"{SITE_TITLE}: comments on {post.title}"

    def link(self, post: Post) -> str:
        return f"{post.get_absolute_url()}#comments"

    def items(self, post: Post) -> list[Comment]:
        return selectors.newest_public_comments(post, limit=FEED_ENTRIES)

    def item_title(self, comment: Comment) -> str:
        return f"{comment.author.get_username()} commented"

    def item_link(self, comment: Comment) -> str:
        # Named by the comment's own id (Comment.permalink), so it is also the entry's stable Atom id.
        return comment.permalink()

    def item_description(self, comment: Comment) -> str:
        return comment.body_html  # sanitised HTML, stored when the comment was saved (blog/comments/markup.py)

    def item_author_name(self, comment: Comment) -> str:
        return comment.author.get_username()

    def item_pubdate(self, comment: Comment) -> datetime:
        return comment.created

    def item_updateddate(self, comment: Comment) -> datetime:
        return comment.edited or comment.created


post_comments_feed = async_feed(PostCommentsFeed())
