"""Read the comment cursors (?before=, ?after=, ?thread=, ?limit=, ?reply_to=) of the post page and the comment JSON.

Only plain ASCII digits are ids: int() would also take " 7", "+7", "1_000" and other
scripts' digits. Ids stop at PostgreSQL's bigint, where a larger one would be a database
error (500) instead of a clear 400.
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


class BadCursor(ValueError):
    """A cursor parameter that is not what it should be; str() is the message for the client."""


@dataclass(frozen=True)
class Cursor:
    before: int | None
    after: int | None
    limit: int
    thread: int | None = None  # the replies of this top-level comment only


def whole_number(value: str, *, lowest: int, highest: int, message: str) -> int:
    if not (value.isascii() and value.isdigit()) or not lowest <= int(value) <= highest:
        raise BadCursor(message)
    return int(value)


def before_param(query: QueryDict) -> int | None:
    """?before= of the post page: absent, or a positive id."""
    return optional_id(query, "before", MESSAGE_BAD_BEFORE)


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
    before = before_param(query)
    after = after_param(query)
    thread = optional_id(query, "thread", MESSAGE_BAD_THREAD)
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
    return Cursor(before=before, after=after, limit=limit, thread=thread)
