"""Read the comment cursors (?before=, ?after=, ?limit=) of the post page and the comment JSON.

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


class BadCursor(ValueError):
    """A cursor parameter that is not what it should be; str() is the message for the client."""


@dataclass(frozen=True)
class Cursor:
    before: int | None
    after: int | None
    limit: int


def whole_number(value: str, *, lowest: int, highest: int, message: str) -> int:
    if not (value.isascii() and value.isdigit()) or not lowest <= int(value) <= highest:
        raise BadCursor(message)
    return int(value)


def before_param(query: QueryDict) -> int | None:
    """?before= of the post page: absent, or a positive id."""
    if "before" not in query:
        return None
    return whole_number(query["before"], lowest=1, highest=MAX_ID, message=MESSAGE_BAD_BEFORE)


def json_cursor(query: QueryDict, *, page_size: int) -> Cursor:
    """The cursor of GET /blog/posts/<id>/comments/ (page_size: the limit without ?after= or ?limit=)."""
    before = before_param(query)
    after = None
    if "after" in query:
        # An empty ?after= has always meant "from the first comment".
        after = whole_number(query["after"] or "0", lowest=0, highest=MAX_ID, message=MESSAGE_BAD_AFTER)
    if before is not None and after is not None:
        raise BadCursor(MESSAGE_BEFORE_AND_AFTER)
    default_limit = AFTER_DEFAULT_LIMIT if after is not None else page_size
    limit_text = query.get("limit")
    limit = (
        default_limit
        if limit_text is None
        else whole_number(limit_text, lowest=1, highest=MAX_LIMIT, message=MESSAGE_BAD_LIMIT)
    )
    return Cursor(before=before, after=after, limit=limit)
