"""A search hit's snippet, as safe HTML: the text escaped, only the matched words wrapped in <mark>.

On PostgreSQL, SearchHeadline marks the matches with the sentinels of blog/search/documents.py
(never <mark> itself, which a post could contain as text): the whole headline is escaped,
then each sentinel becomes its tag. On SQLite, the excerpt is cut around the first match of the
query's words in the body's plain text, and marked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from blog.search.documents import HIGHLIGHT_START, HIGHLIGHT_STOP

EXCERPT_BEFORE = 80  # characters of context before the first match
EXCERPT_LENGTH = 240


def highlighted(headline: str) -> SafeString:
    """SearchHeadline's result, escaped, with its sentinels turned into <mark> and </mark>."""
    html = escape(headline).replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_STOP, "</mark>")
    return mark_safe(html)  # noqa: S308 - everything but the tags just added is escaped


def excerpt(text: str, words: Iterable[str]) -> SafeString:
    """Some EXCERPT_LENGTH characters of `text` around the first of `words` found (its start if none), words marked."""
    words = sorted({word for word in words if word}, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, words)), re.IGNORECASE) if words else None
    first = pattern.search(text) if pattern else None
    start = 0
    if first is not None and first.start() > EXCERPT_BEFORE:
        start = text.rfind(" ", 0, first.start() - EXCERPT_BEFORE) + 1
    end = len(text) if len(text) - start <= EXCERPT_LENGTH else text.rfind(" ", start, start + EXCERPT_LENGTH)
    if end <= start:
        end = min(len(text), start + EXCERPT_LENGTH)
    window = text[start:end]
    parts, done = [], 0
    for match in pattern.finditer(window) if pattern else ():
        parts += [escape(window[done : match.start()]), "<mark>", escape(match.group()), "</mark>"]
        done = match.end()
    parts.append(escape(window[done:]))
    html = ("… " if start else "") + "".join(parts) + (" …" if end < len(text) else "")
    return mark_safe(html)  # noqa: S308 - the text is escaped, piece by piece, around the tags added
