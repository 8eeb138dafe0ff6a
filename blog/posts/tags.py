"""Tags: what a post's tags may be, and how a page reads them with its post (no query of their own).

A post's tags are django-taggit's Tag rows, attached through TaggedPost (blog/posts/models.py), a
real foreign key to the post rather than taggit's generic one, so every join is plain and indexed.
Pages read the tags in the same query as their posts: PostQuerySet.with_tags() gathers each post's
tags into one string in a subquery, read here into TagLinks. So the index reads the tags of all its
posts with its one query, and the cached post (blog/posts/versions.py) carries them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.text import slugify

MAX_TAGS_PER_POST = 10
TAG_MAX_LENGTH = 50

MESSAGE_TOO_MANY_TAGS = f"A post takes at most {MAX_TAGS_PER_POST} tags."
MESSAGE_TAG_TOO_LONG = f"A tag is at most {TAG_MAX_LENGTH} characters long: “{{name}}…” is longer."
MESSAGE_TAG_NEEDS_A_WORD = "A tag needs a letter or a digit: “{name}” has none."
MESSAGE_TAG_CONTROL_CHARACTER = "A tag cannot contain control characters."

# Between a tag's slug and its name, and between tags, in with_tags()'s string. Control
# characters, which no slug contains and validate_tag_names keeps out of names.
UNIT_SEPARATOR = "\x1f"
RECORD_SEPARATOR = "\x1e"


@dataclass(frozen=True)
class TagLink:
    name: str
    slug: str

    def get_absolute_url(self) -> str:
        return reverse("blog:tag_posts", args=[self.slug])


def validate_tag_names(names: Iterable[str]) -> None:
    """Raise ValidationError unless these (parsed) names are few enough and each can be a tag with its own page."""
    names = list(names)
    if len(names) > MAX_TAGS_PER_POST:
        raise ValidationError(MESSAGE_TOO_MANY_TAGS, code="too_many_tags")
    for name in names:
        if any(unicodedata.category(char) in {"Cc", "Cs"} for char in name):
            raise ValidationError(MESSAGE_TAG_CONTROL_CHARACTER, code="tag_control_character")
        if len(name) > TAG_MAX_LENGTH:
            raise ValidationError(MESSAGE_TAG_TOO_LONG.format(name=name[:20]), code="tag_too_long")
        # The tag's page lives at its slug: a name that slugifies to nothing would have none.
        if not slugify(name, allow_unicode=True):
            raise ValidationError(MESSAGE_TAG_NEEDS_A_WORD.format(name=name), code="tag_needs_a_word")


def tag_links(gathered: str | None) -> list[TagLink]:
    """with_tags()'s string as TagLinks, sorted by name (SQLite's aggregates cannot order before 3.44)."""
    links = []
    for record in (gathered or "").split(RECORD_SEPARATOR):
        slug, _, name = record.partition(UNIT_SEPARATOR)
        if slug and name:  # a tag renamed in the admin to something that broke the format is left out
            links.append(TagLink(name=name, slug=slug))
    return sorted(links, key=lambda link: (link.name.casefold(), link.slug))
