"""Pages of comments as every reader sees them alike, rendered once and kept in Django's cache.

Two kinds of entries:
- a page index: which comments a page shows (ids, authors, parents, edit times, like counts),
  its earlier cursor, how many replies each thread keeps behind its link, and separately the
  post's comment count. Keyed by the post, its newest comment id, newest comment-change id
  and likes version (read with the post, blog/comments/selectors.py), the sort, the cursor and
  the size. A new comment raises the first; an edit or a deletion adds a CommentChange and
  raises the second; a like or an unlike raises the third: each leads to new keys, so an index
  is never stale, only no longer asked for.
- a piece: one comment rendered (its HTML, or its JSON), keyed by its id, edit time and like
  count, so a new version of a page re-renders only what changed, and a piece never shows a
  count other than the one its index says.
Indexes are small and short-lived and pieces are bounded by the comments that exist, so a
client asking for every possible cursor cannot fill the cache with copies of the same text.

Pieces are user-neutral: they are rendered without a request, so no CSRF token, nonce or
user reaches them. A logged-in reader's controls (Like, Edit, Delete, Flag) are rendered per request,
for the comments that reader may act on, into each comment's actions slot; a comment's
replies go into its replies slot, so a page of threads is put together from flat pieces.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache as memoize

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import get_template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from blog.comments import selectors
from blog.comments.cursors import SORT_OLDEST, Before
from blog.models import Comment, Post, User
from blog.page_cache import cache_get_many, cache_set_many
from blog.process_cache import cache

# Indexes and counts only need to outlive a burst of readers of one version of a post.
INDEX_SECONDS = 10 * 60
PIECE_SECONDS = 24 * 60 * 60
COMMENT_TEMPLATE = "blog/_comment.html"
ACTIONS_TEMPLATE = "blog/_comment_actions.html"
# Where _comment.html puts the reader's controls and the comment's replies.
# User text is escaped, so it cannot contain these.
ACTIONS_SLOT = "<!--actions-->"
REPLIES_SLOT = "<!--replies-->"


@dataclass(frozen=True)
class CommentStamp:
    """What a page needs to know about a comment without rendering it."""

    id: int
    author_id: int | None
    editable_until: datetime
    edited: datetime | None
    parent_id: int | None = None
    thread_id: int | None = None
    placeholder: bool = False
    likes: int = 0

    @classmethod
    def of(cls, comment: Comment) -> CommentStamp:
        return cls(
            comment.pk,
            comment.author_id,
            comment.editable_until(),
            comment.edited,
            comment.parent_id,
            comment.thread_id,
            comment.is_placeholder,
            comment.like_count,
        )

    def piece_key(self, kind: str) -> str:
        edited = int(self.edited.timestamp() * 1_000_000) if self.edited else 0
        state = "d" if self.placeholder else f"{edited}:{self.likes}"
        return f"c{kind}:{self.id}:{state}:{format_version()}"


@dataclass(frozen=True)
class PageIndex:
    stamps: tuple[CommentStamp, ...]  # in the page's order (selectors.CommentPage)
    earlier: Before
    more_replies: tuple[tuple[int, int], ...] = ()  # (thread id, replies not shown)

    @classmethod
    def of(cls, page: selectors.CommentPage) -> PageIndex:
        more = tuple(sorted((page.more_replies or {}).items()))
        return cls(tuple(CommentStamp.of(comment) for comment in page.comments), page.earlier, more)


@dataclass(frozen=True)
class HtmlPiece:
    stamp: CommentStamp
    # The comment's HTML before its actions slot, between it and its replies slot, and after.
    head: str
    middle: str
    tail: str


@dataclass(frozen=True)
class RenderedPage:
    comments: tuple[HtmlPiece, ...]
    earlier: Before
    count: int  # every comment of the post up to its newest id, not only this page's
    more_replies: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Reader:
    """Whom a page is composed for, and what they may do to others' comments."""

    user: User
    can_moderate: bool
    csrf_token: str
    now: datetime
    # The comments of the page this reader likes (blog/comments/likes.py, liked_by).
    liked: frozenset[int] = frozenset()


@memoize
def format_version() -> str:
    """Changes with _comment.html and Comment.as_json, so a deploy never serves pieces in an old format."""
    source = get_template(COMMENT_TEMPLATE).template.source + inspect.getsource(Comment.as_json)
    return hashlib.blake2s(source.encode(), digest_size=4).hexdigest()


def version_key(kind: str, post: Post, *parts: object) -> str:
    return ":".join(map(str, [kind, post.pk, post.newest_comment_id, post.newest_change_id, *parts]))


def html_keys(post: Post, before: Before, limit: int, sort: str = SORT_OLDEST) -> tuple[str, str]:
    """The keys of a post page's index and of the post's comment count."""
    return json_index_key(post, before, None, limit, sort=sort), version_key("cn", post)


def json_index_key(
    post: Post, before: Before, after: int | None, limit: int, thread: int | None = None, *, sort: str = SORT_OLDEST
) -> str:
    if thread is not None:
        cursor = f"t{thread}a{after or 0}"
    elif after is not None:
        cursor = f"a{after}"
    else:
        cursor = f"b{before or ''}r{settings.BLOG_REPLIES_SHOWN}"
        if sort != SORT_OLDEST:
            cursor = f"s{sort}{cursor}"
    # Like counts are in every index (the stamps): a like or an unlike makes new ones.
    return version_key("ci", post, f"l{post.likes_version}", cursor, limit)


def cached_html_page(post: Post, *, before: Before, limit: int, sort: str = SORT_OLDEST) -> RenderedPage | None:
    """The page from the cache alone, or None when any part is missing (html_page then reads the database).

    Synchronous: called in place for the local-memory cache, in the hop that read the post otherwise.
    """
    index_key, count_key = html_keys(post, before, limit, sort)
    found = cache.get_many([index_key, count_key])
    if index_key not in found or count_key not in found:
        return None
    index = found[index_key]
    pieces = only_cached_pieces(index.stamps, "h")
    if pieces is None:
        return None
    return RenderedPage(
        comments=tuple(HtmlPiece(stamp, *piece) for stamp, piece in pieces),
        earlier=index.earlier,
        count=found[count_key],
        more_replies=index.more_replies,
    )


def cached_json_page(
    post: Post, *, before: Before, after: int | None, limit: int, thread: int | None = None, sort: str = SORT_OLDEST
) -> bytes | None:
    """The body of json_page from the cache alone, or None when any part is missing."""
    index = cache.get(json_index_key(post, before, after, limit, thread, sort=sort))
    if index is None:
        return None
    pieces = only_cached_pieces(index.stamps, "j")
    return None if pieces is None else json_body(index, pieces)


def only_cached_pieces(stamps: Sequence[CommentStamp], kind: str) -> list[tuple[CommentStamp, object]] | None:
    keys = [stamp.piece_key(kind) for stamp in stamps]
    found = cache.get_many(keys)
    if len(found) < len(keys):
        return None
    return [(stamp, found[key]) for stamp, key in zip(stamps, keys, strict=True)]


async def html_page(post: Post, *, before: Before, limit: int, sort: str = SORT_OLDEST) -> RenderedPage:
    """The comments of one page of the post page (the first in the sort's order without `before`), rendered."""
    index_key, count_key = html_keys(post, before, limit, sort)
    found = await cache_get_many([index_key, count_key])
    index, loaded = await page_index(
        post, found.get(index_key), index_key, before=before, after=None, limit=limit, sort=sort
    )
    count = found.get(count_key)
    if count is None:
        count = await selectors.comment_count(post)
        await cache_set_many({count_key: count}, INDEX_SECONDS)
    pieces = await cached_pieces(post, index.stamps, "h", render_html, loaded)
    return RenderedPage(
        comments=tuple(HtmlPiece(stamp, *piece) for stamp, piece in pieces),
        earlier=index.earlier,
        count=count,
        more_replies=index.more_replies,
    )


async def json_page(
    post: Post, *, before: Before, after: int | None, limit: int, thread: int | None = None, sort: str = SORT_OLDEST
) -> bytes:
    """The body of GET /blog/posts/<id>/comments/ for this cursor, encoded."""
    index_key = json_index_key(post, before, after, limit, thread, sort=sort)
    cached = (await cache_get_many([index_key])).get(index_key)
    index, loaded = await page_index(
        post, cached, index_key, before=before, after=after, limit=limit, thread=thread, sort=sort
    )
    return json_body(index, await cached_pieces(post, index.stamps, "j", render_json, loaded))


async def thread_page(post: Post, top: Comment, *, after: int, limit: int) -> RenderedPage:
    """A thread's top comment and its replies after `after`, at most `limit` of them, rendered."""
    index_key = json_index_key(post, None, after, limit, top.pk)
    cached = (await cache_get_many([index_key])).get(index_key)
    index, loaded = await page_index(post, cached, index_key, before=None, after=after, limit=limit, thread=top.pk)
    stamps = (CommentStamp.of(top), *index.stamps)
    # An index read from the cache comes without its comments: then the pieces read what they miss.
    pieces = await cached_pieces(post, stamps, "h", render_html, [top, *loaded] if loaded else ())
    return RenderedPage(comments=tuple(HtmlPiece(stamp, *piece) for stamp, piece in pieces), earlier=None, count=0)


def json_body(index: PageIndex, pieces: Sequence[tuple[CommentStamp, str]]) -> bytes:
    last_id = pieces[-1][0].id if pieces else None
    # The comments are JSON already: the answer is put together around them, not encoded again.
    comments = ",".join(piece for _, piece in pieces)
    more = json.dumps({str(thread): count for thread, count in index.more_replies})
    # An id, or in `liked` order "<likes>.<id>": the next ?before= as it is written.
    earlier = index.earlier if index.earlier is None or isinstance(index.earlier, int) else str(index.earlier)
    cursors = f'"earlier": {json.dumps(earlier)}, "last_id": {json.dumps(last_id)}, "more_replies": {more}'
    return f'{{"comments": [{comments}], {cursors}}}'.encode()


async def page_index(
    post: Post,
    cached: PageIndex | None,
    key: str,
    *,
    before: Before,
    after: int | None,
    limit: int,
    thread: int | None = None,
    sort: str = SORT_OLDEST,
) -> tuple[PageIndex, Sequence[Comment]]:
    """The cached index, or one read from the database with the comments it names (then cached)."""
    if cached is not None:
        return cached, ()
    if thread is not None:
        page = await selectors.thread_replies(post, thread, after=after or 0, limit=limit)
    elif after is not None:
        page = await selectors.comments_after(post, after=after, limit=limit)
    else:
        page = await selectors.threads_before(
            post, before=before, limit=limit, replies_shown=settings.BLOG_REPLIES_SHOWN, sort=sort
        )
    index = PageIndex.of(page)
    await cache_set_many({key: index}, INDEX_SECONDS)
    return index, page.comments


async def cached_pieces[Piece](
    post: Post,
    stamps: Sequence[CommentStamp],
    kind: str,
    render: Callable[[Comment], Piece],
    loaded: Sequence[Comment],
) -> list[tuple[CommentStamp, Piece]]:
    """Each comment's piece, rendering (and caching) only those not cached yet.

    A comment deleted since the index was made is left out; one edited since is shown as it is now.
    """
    keys = [stamp.piece_key(kind) for stamp in stamps]
    found = await cache_get_many(keys)
    missing = {stamp.id for stamp, key in zip(stamps, keys, strict=True) if key not in found}
    if not missing:
        return [(stamp, found[key]) for stamp, key in zip(stamps, keys, strict=True)]
    if not loaded:  # the index came from the cache, its comments did not
        loaded = await selectors.comments_by_id(post, missing)
    rendered = {comment.pk: (CommentStamp.of(comment), render(comment)) for comment in loaded if comment.pk in missing}
    await cache_set_many({stamp.piece_key(kind): piece for stamp, piece in rendered.values()}, PIECE_SECONDS)
    pieces = []
    for stamp, key in zip(stamps, keys, strict=True):
        if key in found:
            pieces.append((stamp, found[key]))
        elif stamp.id in rendered:
            pieces.append(rendered[stamp.id])
    return pieces


def render_html(comment: Comment) -> tuple[str, str, str]:
    # No request and no user in the context: nothing personal can end up in the cache.
    context = {"comment": comment, "actions": mark_safe(ACTIONS_SLOT), "replies": mark_safe(REPLIES_SLOT)}  # noqa: S308
    html = get_template(COMMENT_TEMPLATE).render(context)
    head, actions, rest = html.partition(ACTIONS_SLOT)
    middle, replies, tail = rest.partition(REPLIES_SLOT)
    if not (actions and replies):
        raise ImproperlyConfigured(
            f"{COMMENT_TEMPLATE} must show {{{{ actions }}}} and then {{{{ replies }}}}, once each."
        )
    return head, middle, tail


def render_json(comment: Comment) -> str:
    return json.dumps(comment.as_json())


def compose(page: RenderedPage, reader: Reader | None) -> SafeString:
    """The page's comments as HTML, each reply inside its parent, with the controls `reader`
    may use (None: an anonymous reader). A reply whose parent is not on the page stands at the top."""
    controls = Controls(reader) if reader is not None else None
    shown = {comment.stamp.id for comment in page.comments}
    children: dict[int | None, list[HtmlPiece]] = {}
    for comment in page.comments:  # threads in the page's order, each one's replies by ascending id
        parent = comment.stamp.parent_id if comment.stamp.parent_id in shown else None
        children.setdefault(parent, []).append(comment)
    more = dict(page.more_replies)
    # Where each thread's link to the rest of its replies starts: after the newest reply shown.
    shown_through: dict[int, int] = {}
    for comment in page.comments:
        if comment.stamp.thread_id is not None:
            shown_through[comment.stamp.thread_id] = comment.stamp.id
    parts: list[str] = []

    def add(comment: HtmlPiece) -> None:
        parts.append(comment.head)
        if controls is not None:
            parts.append(controls.for_comment(comment.stamp))
        parts.append(comment.middle)
        replies = children.get(comment.stamp.id, [])
        if replies:
            parts.append('<ol class="comment-replies">')
            for reply in replies:
                add(reply)
            parts.append("</ol>")
        if comment.stamp.id in more:
            thread = comment.stamp.id
            parts.append(more_replies_link(thread, more[thread], after=shown_through.get(thread, 0)))
        parts.append(comment.tail)

    for comment in children.get(None, []):
        add(comment)
    return mark_safe("".join(parts))  # noqa: S308 - rendered by templates that escape user text


def more_replies_link(thread_id: int, count: int, *, after: int) -> str:
    """The link to the rest of a thread: its own page without the script, fetched in place with it."""
    url = reverse("blog:comment_thread", args=[thread_id])
    label = f"Show {count} more repl{'y' if count == 1 else 'ies'}"
    return format_html(
        '<a class="replies-more" href="{}?after={}" data-thread="{}" data-after="{}" data-count="{}">{}</a>',
        url,
        after,
        thread_id,
        after,
        count,
        label,
    )


# The controls are rendered with this number in place of a comment id, then it is replaced by
# each comment's: 19 digits, which no comment id reaches and no CSRF token (64 random letters
# and digits) holds but by a chance of about 1 in 10^32, and the count of slots is checked anyway.
ID_SLOT = str(2**62)


class Controls:
    """One reader's Like, Edit, Delete and Flag controls for a page: the template is rendered once per
    variant, not per comment.

    Rendering it for each of a page's 50 comments took longer than the rest of a logged-in reader's page.
    """

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.variants: dict[tuple[bool, bool, bool, bool], list[str]] = {}

    def for_comment(self, comment: CommentStamp) -> str:
        if comment.placeholder:
            return ""
        own = comment.author_id == self.reader.user.pk
        # Every comment on a page is published: others' may be liked and flagged, one's own never.
        variant = (
            own and comment.editable_until > self.reader.now,
            own or self.reader.can_moderate,
            not own,
            not own and comment.id in self.reader.liked,
        )
        if variant not in self.variants:
            self.variants[variant] = self.split_at_slots(*variant)
        return str(comment.id).join(self.variants[variant])

    def split_at_slots(self, can_edit: bool, can_delete: bool, can_flag: bool, liked: bool) -> list[str]:
        html = self.render(ID_SLOT, can_edit=can_edit, can_delete=can_delete, can_flag=can_flag, liked=liked)
        parts = html.split(ID_SLOT)
        # Each control names the comment once; Like and Flag go together (others' comments).
        if len(parts) - 1 != can_edit + can_delete + 2 * can_flag:
            raise ImproperlyConfigured(f"{ACTIONS_TEMPLATE} must name the comment once per control")
        return parts

    def render(self, comment_id: str, *, can_edit: bool, can_delete: bool, can_flag: bool, liked: bool) -> str:
        context = {
            "comment_id": comment_id,
            "can_edit": can_edit,
            "can_delete": can_delete,
            "can_flag": can_flag,
            "can_like": can_flag,
            "liked": liked,
            "csrf_token": self.reader.csrf_token,
        }
        return get_template(ACTIONS_TEMPLATE).render(context)
