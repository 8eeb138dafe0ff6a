"""Spam signals a new comment is checked for, without asking any outside service.

A check is a plain function `check(comment) -> str | None`. It is given the comment
before it is saved (no pk yet; `author`, `post` and the stripped `body` set) and
answers a short reason for the moderators ("5 links (more than 3)") or None. It runs
inside the transaction that saves the comment, so it may read the database but should
do so cheaply, and it must not write. The checks run in the order BLOG_COMMENT_CHECKS
lists them and the first reason wins: the comment is held for a moderator with it.

To add a check of your own, write such a function in any importable module and add its
dotted path to the BLOG_COMMENT_CHECKS environment variable (comma-separated; list the
built-in ones too to keep them). A path that does not import stops the first comment
with ImproperlyConfigured rather than letting every comment through unchecked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from blog.comments.markup import render_comment_body
from blog.comments.models import Comment, text_fingerprint

type Check = Callable[[Comment], str | None]

# The links the renderer made (Markdown links and <autolinks>; mentions are not rendered as links here).
RENDERED_LINK = re.compile(r"<a\s[^>]*\bhref=", re.IGNORECASE)
RENDERED_ANCHOR = re.compile(r"<a\s.*?</a>", re.IGNORECASE | re.DOTALL)
# An address typed as plain text: the renderer leaves it unlinked, but a reader can still copy it.
BARE_ADDRESS = re.compile(r"\bhttps?://[^\s<]+|(?<![\w.@/-])www\.[^\s<]+", re.IGNORECASE)

REPEAT_WINDOW = timedelta(hours=24)
# "Thanks!" or "+1" on several posts is a reader being polite, not a campaign.
REPEAT_MIN_LENGTH = 20


def link_count(body: str) -> int:
    """Every link in the body, each occurrence counted (the same address twice is two links).

    The links are those the renderer makes, so exactly what readers would be able to follow
    (a Markdown link the sanitiser strips, as `[x](javascript:…)`, is not one), plus the
    http(s):// and www. addresses typed as text, which the renderer does not link.
    """
    html = render_comment_body(body)
    return len(RENDERED_LINK.findall(html)) + len(BARE_ADDRESS.findall(RENDERED_ANCHOR.sub(" ", html)))


def too_many_links(comment: Comment) -> str | None:
    """More links than BLOG_SPAM_MAX_LINKS: the commonest shape of link spam."""
    limit = settings.BLOG_SPAM_MAX_LINKS
    count = link_count(comment.body)
    if count > limit:
        return f"{count} links (more than {limit})"
    return None


def repeated_body(comment: Comment) -> str | None:
    """The same author posted the same text on another post within a day (whatever became of it).

    Case and spacing are ignored (Comment.fingerprint, one index lookup); a short text never
    counts. The same text twice on the same post is a retry or a double click, not this signal.
    """
    if len(" ".join(comment.body.split())) < REPEAT_MIN_LENGTH or comment.author_id is None:
        return None
    repeated = Comment.objects.filter(
        author_id=comment.author_id,
        fingerprint=text_fingerprint(comment.body),
        created__gte=timezone.now() - REPEAT_WINDOW,
    ).exclude(post_id=comment.post_id)
    if repeated.exists():
        return "the same text was posted on another post"
    return None


@functools.lru_cache(maxsize=8)
def word_patterns(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each listed word as a whole-word, case-insensitive pattern; any spacing matches a phrase's spaces.

    Lookarounds rather than \\b, so that a word starting or ending with punctuation ("$$$") still matches.
    """
    return tuple(
        (word, re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, word.split())) + r"(?!\w)", re.IGNORECASE))
        for word in words
        if word.strip()
    )


def listed_words(comment: Comment) -> str | None:
    """The body contains one of BLOG_SPAM_WORDS as a whole word ("ass" is not found in "class")."""
    for word, pattern in word_patterns(tuple(settings.BLOG_SPAM_WORDS)):
        if pattern.search(comment.body):
            return f"contains a listed word: “{word}”"
    return None


@functools.lru_cache(maxsize=8)
def loaded_checks(paths: tuple[str, ...]) -> tuple[Check, ...]:
    """The checks these dotted paths name, imported once per list of paths (a test may change the setting)."""
    checks = []
    for path in paths:
        try:
            check = import_string(path)
        except ImportError as error:
            raise ImproperlyConfigured(
                f"BLOG_COMMENT_CHECKS names {path!r}, which cannot be imported: {error}"
            ) from None
        if not callable(check):
            raise ImproperlyConfigured(f"BLOG_COMMENT_CHECKS names {path!r}, which is not a function.")
        checks.append(check)
    return tuple(checks)


def suspicion(comment: Comment) -> str | None:
    """The first reason any of BLOG_COMMENT_CHECKS gives to hold this comment, or None."""
    for check in loaded_checks(tuple(settings.BLOG_COMMENT_CHECKS)):
        if reason := check(comment):
            return reason
    return None
