"""Deployed static files: the live script's imports name hashed parts, so a browser never pairs old and new."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.processes import PROJECT_ROOT

LIVE_PARTS = PROJECT_ROOT / "static" / "blog" / "live"
HASHED_JS = re.compile(r"\.[0-9a-f]{12}\.js")


def relative_imports(source: str) -> list[str]:
    """The relative module paths a script imports (`import … from './x.js'`, `export … from`, `import './x.js'`)."""
    return re.findall(r"""(?:\bfrom|\bimport)\s*["'](\.{1,2}/[^"']+)["']""", source)


def test_the_live_script_and_its_parts_import_each_other_by_plain_name_in_the_source():
    """The rewriting below has something to rewrite: the sources name the parts plainly."""
    imported = {name for path in LIVE_PARTS.glob("*.js") for name in relative_imports(path.read_text())}
    assert imported and not any(HASHED_JS.search(name) for name in imported)


@pytest.fixture
def collected(tmp_path: Path) -> Path:
    storages = {"staticfiles": {"BACKEND": "asgi_blog.static_storage.ModuleAwareStaticFilesStorage"}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


def test_collected_scripts_import_every_part_by_its_hashed_name(collected):
    [script] = (collected / "blog").glob("live-comments.*.js")
    assert HASHED_JS.search(script.name)
    reached, waiting = set(), [script]
    while waiting:
        module = waiting.pop()
        for name in relative_imports(module.read_text()):
            assert HASHED_JS.search(name), f"{module.name} imports {name} by its plain name"
            part = (module.parent / name).resolve()
            assert part.is_file(), f"{module.name} imports {name}, which was not collected"
            if part not in reached:
                reached.add(part)
                waiting.append(part)
    plain_names = {HASHED_JS.sub(".js", part.name) for part in reached}
    assert plain_names == {path.name for path in LIVE_PARTS.glob("*.js")}, "every part is reached"


def test_the_live_scripts_parts_import_one_another_in_one_direction():
    """No part imports one that imports it back, however indirectly: each part's job stays its own."""
    script = PROJECT_ROOT / "static" / "blog" / "live-comments.js"
    imports = {
        path.resolve(): {(path.parent / name).resolve() for name in relative_imports(path.read_text())}
        for path in (script, *LIVE_PARTS.glob("*.js"))
    }
    done: set[Path] = set()

    def visit(module: Path, path: tuple[Path, ...]) -> None:
        assert module not in path, "import cycle: " + " -> ".join(part.name for part in (*path, module))
        if module not in done:
            for imported in imports[module]:
                visit(imported, (*path, module))
            done.add(module)

    visit(script.resolve(), ())
    assert done == set(imports), "every part is reached from the script"
