"""Read the comment cursors (?sort=, ?before=, ?after=, ?thread=, ?limit=, ?reply_to=) of the post page and the JSON.

Only plain ASCII digits are ids: int() would also take " 7", "+7", "1_000" and other
scripts' digits. Ids stop at PostgreSQL's bigint, where a larger one would be a database
error (500) instead of a clear 400.

?sort= orders a page's threads (top-level comments): `oldest` (the default), `newest` or
`liked`. ?before= is the cursor of the next page in every order: the thread it names
comes last on the page before. In the two orders by time that is the thread's id; in
`liked` order, which is by like count, most first, then newest first, it is the thread's
count and id, written `<likes>.<id>` (a keyset, so the page is a range of one index).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict

MAX_ID = 2**63 - 1
MAX_LIMIT = 200
# ?after= without a limit answers up to 200, as it always has: the page's script reads a
# shorter answer as "nothing more to fetch".
AFTER_DEFAULT_LIMIT = MAX_LIMIT

MESSAGE_BAD_BEFORE = "before must be a comment id (a positive whole number)."
MESSAGE_BAD_AFTER = "after must be a comment id (a whole number)."
MESSAGE_BAD_LIMIT = f"limit must be a whole number from 1 to {MAX_LIMIT}."
MESSAGE_BEFORE_AND_AFTER = "Give before or after, not both."
MESSAGE_BAD_THREAD = "thread must be a comment id (a positive whole number)."
MESSAGE_THREAD_AND_BEFORE = "A thread is read forwards: give after, not before."
MESSAGE_BAD_REPLY_TO = "reply_to must be a comment id (a positive whole number)."
MESSAGE_BAD_SORT = "sort must be oldest, newest or liked."
MESSAGE_BAD_LIKED_BEFORE = (
    "With sort=liked, before must be a thread's like count and id, as <likes>.<id> (two whole numbers)."
)
MESSAGE_SORT_WITH_AFTER = "after and thread read comments in id order: give them without sort."

SORT_OLDEST = "oldest"
SORT_NEWEST = "newest"
SORT_LIKED = "liked"
SORTS = (SORT_OLDEST, SORT_NEWEST, SORT_LIKED)
# A like count is a PostgreSQL integer (PositiveIntegerField).
MAX_LIKES = 2**31 - 1


class BadCursor(ValueError):
    """A cursor parameter that is not what it should be; str() is the message for the client."""


@dataclass(frozen=True)
class LikedCursor:
    """The last thread of a page in `liked` order: the next page has those after it (fewer likes, or as
    many and a smaller id)."""

    likes: int
    id: int

    def __str__(self) -> str:
        return f"{self.likes}.{self.id}"


# What ?before= holds: an id, or in `liked` order a LikedCursor.
type Before = int | LikedCursor | None


@dataclass(frozen=True)
class Cursor:
    before: Before
    after: int | None
    limit: int
    thread: int | None = None  # the replies of this top-level comment only
    sort: str = SORT_OLDEST


def whole_number(value: str, *, lowest: int, highest: int, message: str) -> int:
    if not (value.isascii() and value.isdigit()) or not lowest <= int(value) <= highest:
        raise BadCursor(message)
    return int(value)


def sort_param(query: QueryDict) -> str:
    """?sort= of the post page and the JSON: absent (oldest), or one of SORTS."""
    sort = query.get("sort", SORT_OLDEST)
    if sort not in SORTS:
        raise BadCursor(MESSAGE_BAD_SORT)
    return sort


def before_param(query: QueryDict, sort: str = SORT_OLDEST) -> Before:
    """?before= of the post page: absent, a positive id, or in `liked` order `<likes>.<id>`."""
    if sort != SORT_LIKED:
        return optional_id(query, "before", MESSAGE_BAD_BEFORE)
    if "before" not in query:
        return None
    likes, dot, comment_id = query["before"].partition(".")
    if not dot:
        raise BadCursor(MESSAGE_BAD_LIKED_BEFORE)
    return LikedCursor(
        likes=whole_number(likes, lowest=0, highest=MAX_LIKES, message=MESSAGE_BAD_LIKED_BEFORE),
        id=whole_number(comment_id, lowest=1, highest=MAX_ID, message=MESSAGE_BAD_LIKED_BEFORE),
    )


def optional_id(query: QueryDict, name: str, message: str) -> int | None:
    if name not in query:
        return None
    return whole_number(query[name], lowest=1, highest=MAX_ID, message=message)


def reply_to_param(query: QueryDict) -> int | None:
    """?reply_to= of the post page: absent, or the id of the comment the form answers."""
    return optional_id(query, "reply_to", MESSAGE_BAD_REPLY_TO)


def after_param(query: QueryDict) -> int | None:
    if "after" not in query:
        return None
    # An empty ?after= has always meant "from the first comment".
    return whole_number(query["after"] or "0", lowest=0, highest=MAX_ID, message=MESSAGE_BAD_AFTER)


def json_cursor(query: QueryDict, *, page_size: int) -> Cursor:
    """The cursor of GET /blog/posts/<id>/comments/ (page_size: the limit without ?after= or ?limit=)."""
    sort = sort_param(query)
    before = before_param(query, sort)
    after = after_param(query)
    thread = optional_id(query, "thread", MESSAGE_BAD_THREAD)
    if "sort" in query and (after is not None or thread is not None):
        raise BadCursor(MESSAGE_SORT_WITH_AFTER)
    if thread is not None and before is not None:
        raise BadCursor(MESSAGE_THREAD_AND_BEFORE)
    if before is not None and after is not None:
        raise BadCursor(MESSAGE_BEFORE_AND_AFTER)
    default_limit = AFTER_DEFAULT_LIMIT if after is not None and thread is None else page_size
    limit_text = query.get("limit")
    limit = (
        default_limit
        if limit_text is None
        else whole_number(limit_text, lowest=1, highest=MAX_LIMIT, message=MESSAGE_BAD_LIMIT)
    )
    return Cursor(before=before, after=after, limit=limit, thread=thread, sort=sort)
