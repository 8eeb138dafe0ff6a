"""Comment bodies: a small Markdown subset turned into HTML, then cleaned to an allow-list.

markdown-it-py parses CommonMark with raw HTML off, so markup a reader types
(`<img src=x onerror=…>`) is escaped and shows as text, never dropped silently;
headings, images and rules are switched off. nh3 then keeps only the tags and
attributes below, links only to http, https and mailto addresses, each with
rel="nofollow ugc noopener": a second line of defence that does not depend on
the parser's settings. Rendered once per saved body (Comment.save), never per view.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

COMMENT_TAGS = {"a", "blockquote", "br", "code", "em", "li", "ol", "p", "pre", "strong", "ul"}
COMMENT_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
LINK_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"

# "breaks": a single newline is a line break, as readers type comments.
_parser = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable(["heading", "lheading", "image", "hr"])


def render_comment_body(body: str) -> str:
    """The body as HTML that is safe to show as it is."""
    return nh3.clean(
        _parser.render(body),
        tags=COMMENT_TAGS,
        attributes=COMMENT_ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        url_relative="deny",
        link_rel=LINK_REL,
    ).strip()
