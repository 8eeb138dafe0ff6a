"""Reads of posts: who may see which, for the views and the consumer alike.

Visibility is the QuerySet method Post.objects.visible_to(); whether a user may see
drafts is a permission, read here once per call: async for the views, sync for the
consumer's work on the database thread.
"""

from __future__ import annotations

from django.db.models import Exists
from taggit.models import Tag

from blog.accounts.models import User
from blog.posts.models import Post, PostQuerySet, PostRevision, TaggedPost


def may_see_drafts(user: User) -> bool:
    return user.is_authenticated and user.has_perm("blog.publish_post")


async def amay_see_drafts(user: User) -> bool:
    return user.is_authenticated and await user.ahas_perm("blog.publish_post")


async def visible_posts(user: User) -> PostQuerySet:
    """The posts this user may see, permission read; for views that filter them further."""
    return Post.objects.visible_to(user, can_publish=await amay_see_drafts(user))


async def visible_post(user: User, post_id: int) -> Post | None:
    """The post with its author, if this user may see it."""
    visible = Post.objects.visible_to(user, can_publish=await amay_see_drafts(user))
    return await visible.select_related("author").filter(pk=post_id).afirst()


async def post_is_visible(user: User, post_id: int) -> bool:
    visible = Post.objects.visible_to(user, can_publish=await amay_see_drafts(user))
    return await visible.filter(pk=post_id).aexists()


async def visible_post_with_versions(user: User, post_id: int) -> Post | None:
    """The post if this user may see it, with newest_comment_id and newest_change_id and its tags, in one query."""
    visible = Post.objects.visible_to(user, can_publish=await amay_see_drafts(user))
    return await visible.with_comment_versions().for_display().select_related("author").filter(pk=post_id).afirst()


def post_and_moderation_for_socket(user: User, post_id: int) -> tuple[Post | None, bool]:
    """Sync: the post if `user` may see it, and whether `user` may moderate its comments.

    Django caches a user's permissions on the user object, so the draft check
    (publish_post) and the moderation one (delete_comment) read them once between them.
    An anonymous reader's post comes with its versions and author, to be cached as the
    pages cache it (blog/posts/versions.py).
    """
    posts = Post.objects.visible_to(user, can_publish=may_see_drafts(user))
    if not user.is_authenticated:
        posts = posts.with_comment_versions().for_display().select_related("author")
    post = posts.filter(pk=post_id).first()
    can_moderate = post is not None and user.is_authenticated and user.has_perm("blog.delete_comment")
    return post, can_moderate


async def revisions_of(post: Post) -> list[PostRevision]:
    """The post's earlier versions, newest first, with who replaced each."""
    revisions = PostRevision.objects.filter(post=post).select_related("editor").order_by("-id")
    return [revision async for revision in revisions]


async def revision_and_next(post: Post, revision_id: int) -> tuple[PostRevision, str, str] | None:
    """An earlier version of the post, and the title and body that replaced it: the next earlier
    version's, or the post's own when it was the last edit. None when it is not this post's."""
    revision = await PostRevision.objects.filter(post=post, pk=revision_id).select_related("editor").afirst()
    if revision is None:
        return None
    following = await PostRevision.objects.filter(post=post, pk__gt=revision.pk).order_by("id").afirst()
    if following is None:
        return revision, post.title, post.body
    return revision, following.title, following.body


def published_posts() -> PostQuerySet:
    """Every reader's posts as pages list them: published, newest first, with their authors and tags."""
    return Post.objects.published().newest_first().select_related("author").for_display()


async def tag_of_published_posts(slug: str) -> Tag | None:
    """The tag with this slug if a published post carries it (a draft's tags are not announced)."""
    return await Tag.objects.filter(slug=slug).filter(Exists(Post.objects.published().tagged(slug))).afirst()


async def tags_of(post: Post) -> list[Tag]:
    """The post's tags, as the edit form shows them."""
    return [tagged.tag async for tagged in TaggedPost.objects.filter(content_object=post).select_related("tag")]
