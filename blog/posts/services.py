"""The only code that writes posts (the admin and the views call it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.utils import timezone

from blog import events
from blog.accounts.models import User
from blog.accounts.two_factor.policy import second_factor_check
from blog.posts.models import Post, PostRevision, TaggedPost
from blog.posts.tags import validate_tag_names
from blog.search import documents

MESSAGE_CANNOT_PUBLISH = "You do not have permission to publish posts."
MESSAGE_CANNOT_EDIT = "Only an Editor may edit a published post, and only its author or an Editor a draft."


def post_create(*, author: User, title: str, body: str, status: str, tags: Sequence[str] = ()) -> Post:
    """Save a new post with its tags; only users with blog.publish_post may publish it straight away, and those
    BLOG_REQUIRE_2FA covers only from a session that gave a second factor (SecondFactorRequired)."""
    validate_tag_names(tags)
    may_publish = status == Post.Status.PUBLISHED and author.has_perm("blog.publish_post")
    if may_publish:
        second_factor_check(author)
    post = Post(
        author=author,
        title=title.strip(),
        body=body,
        status=Post.Status.PUBLISHED if may_publish else Post.Status.DRAFT,
        published_at=timezone.now() if may_publish else None,
    )
    post.full_clean()
    with transaction.atomic():
        post.save()
        if tags:
            # Through taggit, whose change refreshes the post's search document (blog/receivers.py).
            post.tags.set(list(tags))
    return post


def post_publish(*, post: Post, actor: User) -> Post:
    if not actor.has_perm("blog.publish_post"):
        raise PermissionDenied(MESSAGE_CANNOT_PUBLISH)
    second_factor_check(actor)
    if not post.is_published:
        post.status = Post.Status.PUBLISHED
        post.published_at = timezone.now()
        post.save(update_fields=["status", "published_at", "updated"])
    return post


def may_edit(post: Post, user: User) -> bool:
    """Editors (blog.change_post) edit any post; an author edits their own while it is a draft."""
    if not user.is_authenticated:
        return False
    return user.has_perm("blog.change_post") or (post.author_id == user.pk and not post.is_published)


def post_edit(*, post: Post, actor: User, title: str, body: str, tags: Sequence[str] | None = None) -> Post:
    """Change a post's title and body (and its tags, unless None). An edit to a published post's words keeps
    what it said before (a PostRevision), marks the post revised, and tells its open readers, with a link to
    the change; tags are not words of the post, and keep no history."""
    if tags is not None:
        validate_tag_names(tags)
    if not may_edit(post, actor):
        raise PermissionDenied(MESSAGE_CANNOT_EDIT)
    if post.is_published or post.author_id != actor.pk:
        second_factor_check(actor)  # an Editor's power, unlike an author's edit of their own draft
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        before = Post(pk=post.pk, title=post.title, body=post.body, status=post.status)
        post.title, post.body = title.strip(), body
        post.full_clean()
        post_revision_keep(before=before, post=post, editor=actor)
        post.save()
        if tags is not None:
            # Through taggit, whose change refreshes the post's search document (blog/receivers.py).
            post.tags.set(list(tags))
    return post


def post_revision_keep(*, before: Post, post: Post, editor: User | None) -> PostRevision | None:
    """Inside the edit's transaction, before `post` is saved with its new text: when a published post's
    title or body changes, keep the old ones and mark the post revised; readers hear of it after the commit.

    The admin's edits come through here too (blog/admin.py), so every path keeps the history.
    """
    if not (before.is_published and post.is_published):
        return None
    if (before.title, before.body) == (post.title, post.body):
        return None
    revision = PostRevision.objects.create(post=post, title=before.title, body=before.body, editor=editor)
    post.revised = revision.replaced
    events.publish_on_commit(events.PostRevised(post_id=post.pk, revision_id=revision.pk, revised=post.revised))
    return revision


def post_search_documents_refresh(*, post_ids: Iterable[int], using: str | None = None) -> dict[int, bool]:
    """Store again the search documents of these posts, after their tags changed; each id found -> is published.

    Post.save() stores a post's document with the post; its tags are saved after it, through taggit's
    own rows, so every change of them (the post form, the admin, a shell, a tag renamed or deleted)
    comes here through blog/receivers.py. Posts are read in one query, their tags in another.
    """
    using = using or router.db_for_write(Post)
    posts = list(Post.objects.using(using).filter(pk__in=set(post_ids)).only("pk", "title", "body_text", "status"))
    names: dict[int, list[str]] = defaultdict(list)
    tagged = TaggedPost.objects.using(using).filter(content_object__in=[post.pk for post in posts])
    for post_id, name in tagged.values_list("content_object", "tag__name"):
        names[post_id].append(name)
    vendor = connections[using].vendor
    for post in posts:
        fields = documents.document(title=post.title, tag_names=names[post.pk], body_text=post.body_text, vendor=vendor)
        Post.objects.using(using).filter(pk=post.pk).update(**fields)
    return {post.pk: post.is_published for post in posts}
