"""A post's search document, computed when the post or its tags are saved, never when it is searched.

Two forms of the same words, title, tag names and body text (the rendered body without its markup):
- `search_text`, casefolded, on every database: what the plain SQLite search matches with LIKE;
- `search_vector`, on PostgreSQL only, PostgreSQL's weighted tsvector (title A, tags B, body C),
  matched through its GIN index and ranked by SearchRank. It stays NULL on SQLite, where the
  column is a plain text column nothing reads.
The vector is an SQL expression over values, so the INSERT or UPDATE that saves the post computes
it in the same statement. This module imports no model: Post.save() and the services use it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from django.contrib.postgres.search import SearchVector
from django.db.models import TextField, Value

# The text search configuration: English stemming ("publishing" finds "published"), stop words dropped.
SEARCH_CONFIG = "english"
# Put around the matched words by SearchHeadline, then turned into <mark> once the rest is escaped
# (blog/search/snippets.py). Private-use characters, removed from every body_text, so a post cannot
# contain them and open a <mark> of its own.
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_STOP = "\ue001"

# Tags that end a block of text become a space; others (<code>, <em>, <a>) go without one, so
# "<code>x</code>;" reads "x;".
_BLOCK_TAG = re.compile(r"</?(?:p|br|hr|h[1-6]|li|ul|ol|blockquote|pre|table|thead|tbody|tr|td|th)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_SENTINELS = re.compile(f"[{HIGHLIGHT_START}{HIGHLIGHT_STOP}]")


def plain_text(body_html: str) -> str:
    """The sanitised body's words without markup, entities decoded, on one line (body_html is nh3's output)."""
    text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", body_html)))
    return _SPACE.sub(" ", _SENTINELS.sub("", text)).strip()


def search_text(*, title: str, tag_names: Iterable[str], body_text: str) -> str:
    return "\n".join([title, " ".join(tag_names), body_text]).casefold()


def search_vector(*, title: str, tag_names: Iterable[str], body_text: str) -> SearchVector:
    def weighted(text: str, weight: str) -> SearchVector:
        return SearchVector(Value(text, output_field=TextField()), weight=weight, config=SEARCH_CONFIG)

    return weighted(title, "A") + weighted(" ".join(tag_names), "B") + weighted(body_text, "C")


def document(*, title: str, tag_names: Iterable[str], body_text: str, vendor: str) -> dict[str, object]:
    """The document's stored fields, as values to save: search_text always, search_vector on PostgreSQL."""
    names = sorted(tag_names)
    return {
        "search_text": search_text(title=title, tag_names=names, body_text=body_text),
        "search_vector": search_vector(title=title, tag_names=names, body_text=body_text)
        if vendor == "postgresql"
        else None,
    }
