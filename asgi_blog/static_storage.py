"""Static files as deployed: hashed names, compressed copies, and module imports that follow the hashes.

servestatic's storage is Django's ManifestStaticFilesStorage plus compressed copies.
Django rewrites a JavaScript module's relative imports (`import { … } from './page.js'`)
to the hashed names only when asked: with that on, the hashed live-comments.js imports
hashed parts, each part imports hashed parts in turn, and a browser never pairs a new
script with a stale cached part. The page needs no import map.

Django finds the imports with a pattern that does not skip comments: the word
"import" and a space in a comment hide the next real import from it, so the
scripts' comments avoid that (tests/test_static_storage.py fails on a plain import).
"""

from __future__ import annotations

from servestatic.storage import CompressedManifestStaticFilesStorage


class ModuleAwareStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
