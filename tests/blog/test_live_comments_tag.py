"""The live-comments script's parts and the import map that names them."""

from __future__ import annotations

import json
import re

from blog.templatetags.live_comments import LIVE_COMMENT_PARTS, live_comments_import_map
from tests.processes import PROJECT_ROOT


def test_every_part_of_the_live_script_is_in_the_import_map():
    """A part left out would load from its plain URL, which a browser may cache across a deploy."""
    parts = {path.stem for path in (PROJECT_ROOT / "static" / "blog" / "live").glob("*.js")}
    assert parts == set(LIVE_COMMENT_PARTS)
    imports = json.loads(live_comments_import_map())["imports"]
    assert set(imports) == {f"/static/blog/live/{part}.js" for part in LIVE_COMMENT_PARTS}


def test_the_live_script_imports_only_parts_that_the_map_names():
    script = PROJECT_ROOT / "static" / "blog" / "live-comments.js"
    sources = [script, *(PROJECT_ROOT / "static" / "blog" / "live").glob("*.js")]
    imported = {
        (source.parent / name).resolve().relative_to(PROJECT_ROOT / "static" / "blog" / "live").as_posix()
        for source in sources
        for name in re.findall(r"""from '(\./[^']+)'""", source.read_text())
    }
    assert imported == {f"{part}.js" for part in LIVE_COMMENT_PARTS}


def test_the_post_page_carries_the_import_map_before_the_script(client, post):
    html = client.get(post.get_absolute_url()).content.decode()
    assert html.index('<script type="importmap"') < html.index('<script type="module"')
