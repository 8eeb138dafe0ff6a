"""The import map that lets the live-comments script load its parts under their hashed names."""

from __future__ import annotations

import json

from django import template
from django.templatetags.static import PrefixNode, static
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# The modules static/blog/live-comments.js is made of, in static/blog/live/.
LIVE_COMMENT_PARTS = ("page", "render", "socket", "composer", "editing", "earlier")


@register.simple_tag
def live_comments_import_map() -> SafeString:
    """Map each part's plain URL, where the script's relative imports lead, to its hashed URL.

    Django's manifest storage leaves the parts' relative imports as they are (it rewrites module
    imports only with `support_js_module_import_aggregation`, which is off); the page names the
    hashed files instead, and a browser never pairs a new script with a stale cached part.
    """
    prefix = PrefixNode.handle_simple("STATIC_URL")
    imports = {f"{prefix}blog/live/{part}.js": static(f"blog/live/{part}.js") for part in LIVE_COMMENT_PARTS}
    # JSON of static URLs, with "<" escaped so nothing in it can end the script element.
    return mark_safe(json.dumps({"imports": imports}).replace("<", "\\u003c"))  # noqa: S308
