"""Published posts with their comment versions, kept in Django's cache so a warm read needs no database.

A published post reads the same for everyone, so what its page needs from the database
(the post, its author's name, its tags, its newest comment id and newest change id) is cached per
post for ENTRY_SECONDS. Each entry carries the post's token, kept under a key of its own
and read with the entry in one get_many: the entry is served only while its token is the
current one. Every change the blog publishes (blog/events.py) gives the post a new token
and drops its entry, synchronously and before the realtime broadcaster hears of it; a
reader that read the post from the database before the change stores its entry under
the old token, which is never served. So a cached post is never older than the last
published change; writes that publish nothing (a bulk update in a shell) are covered by
the entry's short life.

Drafts are never cached: who may see one depends on the reader. While the cache is down,
every read goes to the database (blog/page_cache.py).
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache as memoize

from blog import events
from blog.models import Post, User
from blog.page_cache import cache_outage, cache_set_many, in_cache_thread
from blog.posts import selectors
from blog.process_cache import cache

# Every change made through the blog drops the entry at once. A write that publishes no event (a
# bulk update or delete in a shell, a script on the database) shows within this many seconds: the
# database stays the source of truth, and a post read a few hundred times a second is still read
# from it only once every couple of seconds.
ENTRY_SECONDS = 2
# Outlives many entries; when it is evicted anyway, the next reader starts a new token and refills.
TOKEN_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class CachedPost:
    post: Post  # published, with newest_comment_id, newest_change_id and its tags, its author reduced to a name
    token: str


@dataclass(frozen=True)
class Lookup:
    """What the cache said about a post: the post when current, else the token to store it under."""

    post: Post | None
    # None when no entry may be stored by this reader (another reader started the token meanwhile).
    token: str | None


def token_key(post_id: int) -> str:
    return f"pt:{post_id}"


def entry_key(post_id: int) -> str:
    return f"pv:{post_id}:{entry_format()}"


@memoize
def entry_format() -> str:
    """Changes with Post's fields, so a deploy never serves a post pickled without a field it now reads."""
    fields = ",".join(field.attname for field in Post._meta.concrete_fields)
    return hashlib.blake2s(fields.encode(), digest_size=4).hexdigest()


def lookup(post_id: int) -> Lookup:
    """Synchronous: the cached post if its entry is current, else the token a database read may store it under."""
    found = cache.get_many([token_key(post_id), entry_key(post_id)])
    token, entry = found.get(token_key(post_id)), found.get(entry_key(post_id))
    if token is None:
        # Started before the database is read, so a change made meanwhile replaces it.
        token = uuid.uuid4().hex
        if not cache.add(token_key(post_id), token, TOKEN_SECONDS):
            return Lookup(None, None)
        return Lookup(None, token)
    if entry is not None and entry.token == token:
        return Lookup(entry.post, token)
    return Lookup(None, token)


async def cached_post_and[Extra](post_id: int, also: Callable[[Post], Extra | None]) -> tuple[Lookup, Extra | None]:
    """The post's lookup and, when the post was cached, also(post) read in the same thread hop (if any)."""

    def read() -> tuple[Lookup, Extra | None]:
        found = lookup(post_id)
        return found, (also(found.post) if found.post is not None else None)

    try:
        return await in_cache_thread(read)
    except Exception:
        cache_outage()
        return Lookup(None, None), None


async def visible_post_with_versions(user: User, post_id: int, found: Lookup) -> Post | None:
    """The post if `user` may see it: the cached one, else read from the database and, if published, cached."""
    if found.post is not None:
        return found.post
    post = await selectors.visible_post_with_versions(user, post_id)
    await remember(post, found)
    return post


async def remember(post: Post | None, found: Lookup) -> None:
    """Cache a post read from the database (with its versions and author), if published, under the lookup's token."""
    if post is not None and post.is_published and found.token is not None:
        await cache_set_many({entry_key(post.pk): CachedPost(cacheable(post), found.token)}, ENTRY_SECONDS)


def cacheable(post: Post) -> Post:
    """The post as cached: its author reduced to the name pages show, so no password hash reaches the cache."""
    entry = copy.copy(post)  # a model's copy has its own state, so the reader's post keeps its author
    entry.author = User(pk=post.author_id, username=post.author.username)
    return entry


def changed_post_id(event: events.Event) -> int | None:
    match event:
        case (
            events.CommentCreated(comment=comment)
            | events.CommentUpdated(comment=comment)
            | events.CommentPublished(comment=comment)
        ):
            return comment.post_id
        case events.CommentDeleted(change=change) | events.CommentHidden(change=change):
            return change.post_id
        case (
            events.PostChanged(post_id=post_id)
            | events.ModerationChanged(post_id=post_id)
            | events.CommentLikesChanged(post_id=post_id)
        ):
            return post_id
    return None


def forget_changed_post(event: events.Event) -> None:
    """Subscribed to blog.events before the broadcaster: a reload after a live frame must show the change."""
    post_id = changed_post_id(event)
    if post_id is None:
        return
    try:
        # The new token first: an entry stored from an earlier database read can no longer be served.
        cache.set(token_key(post_id), uuid.uuid4().hex, TOKEN_SECONDS)
        cache.delete(entry_key(post_id))
    except Exception:
        # Reads fail over to the database while the cache is down; ENTRY_SECONDS bounds what survives it.
        cache_outage()
