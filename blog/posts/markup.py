"""Post bodies: Markdown turned into HTML, with everything outside a small allow-list removed."""

from __future__ import annotations

import markdown
import nh3

# Tags a post body may use once Markdown has turned it into HTML.
POST_BODY_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "img",
    "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip


def render_post_body(body: str) -> str:
    """The body as HTML that is safe to show as it is (nh3 keeps only POST_BODY_TAGS)."""
    html = markdown.markdown(body, extensions=["fenced_code", "tables"])
    return nh3.clean(html, tags=POST_BODY_TAGS)
