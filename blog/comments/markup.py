"""Comment bodies: a small Markdown subset turned into HTML, then cleaned to an allow-list.

markdown-it-py parses CommonMark with raw HTML off, so markup a reader types
(`<img src=x onerror=…>`) is escaped and shows as text, never dropped silently;
headings, images and rules are switched off. `@name` of an existing user becomes
a link to their profile (the caller says which names exist); other names stay
text, as do mentions in code and inside links. nh3 then keeps only the tags and
attributes below, links only to http, https and mailto addresses and to profiles,
each with rel="nofollow ugc noopener": a second line of defence that does not
depend on the parser's settings. Rendered once per saved body (Comment.save),
never per view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from django.urls import reverse
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

COMMENT_TAGS = {"a", "blockquote", "br", "code", "em", "li", "ol", "p", "pre", "strong", "ul"}
COMMENT_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
COMMENT_CLASSES = {"a": {"mention"}}
LINK_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"

# "@" then a username's characters (Django's, without "@"), not ending in "." (the end of a
# sentence), and not inside a word or an address (name@example.com).
MENTION = re.compile(r"(?<![\w@/.+-])@([\w.+-]*[\w+-])")


def mention_candidates(body: str) -> set[str]:
    """Every name the body may mention; the caller keeps those that are users."""
    return set(MENTION.findall(body))


def profile_url(username: str) -> str:
    return reverse("blog:user_profile", args=[username])


def link_mentions(state: StateCore) -> None:
    """A core rule: `@name` in plain text becomes a link to the profile, for the names in env["mentionable"]."""
    mentionable = state.env.get("mentionable")
    if not mentionable:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, inside_link = [], 0
        for token in block.children:
            inside_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type == "text" and not inside_link:
                children.extend(split_mentions(token, mentionable))
            else:
                children.append(token)
        block.children = children


def split_mentions(token: Token, mentionable: Iterable[str]) -> list[Token]:
    text, done, tokens = token.content, 0, []
    for match in MENTION.finditer(text):
        name = match.group(1)
        if name not in mentionable:
            continue
        if match.start() > done:
            tokens.append(Token("text", "", 0, content=text[done : match.start()]))
        tokens += [
            Token("link_open", "a", 1, attrs={"href": profile_url(name), "class": "mention"}),
            Token("text", "", 0, content=match.group(0)),
            Token("link_close", "a", -1),
        ]
        done = match.end()
    if not tokens:
        return [token]
    if done < len(text):
        tokens.append(Token("text", "", 0, content=text[done:]))
    return tokens


def only_profile_links(url: str) -> str | None:
    """nh3's rule for relative links: a profile's address stays, any other goes."""
    return url if url.startswith(profile_url("_").removesuffix("_/")) else None


# "breaks": a single newline is a line break, as readers type comments.
_parser = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable(["heading", "lheading", "image", "hr"])
_parser.core.ruler.push("link_mentions", link_mentions)


def render_comment_body(body: str, *, mentionable: Iterable[str] = ()) -> str:
    """The body as HTML that is safe to show as it is; `@name` links for the names in `mentionable`."""
    return nh3.clean(
        _parser.render(body, {"mentionable": frozenset(mentionable)}),
        tags=COMMENT_TAGS,
        attributes=COMMENT_ATTRIBUTES,
        allowed_classes=COMMENT_CLASSES,
        url_schemes=LINK_SCHEMES,
        url_relative=only_profile_links,
        link_rel=LINK_REL,
    ).strip()
