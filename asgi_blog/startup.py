"""Checks made once when the server starts, so a broken deployment stops with a message.

A Django system check would not do: daphne runs none, and `check` passes
before `collectstatic` has been run, which is exactly the mistake to catch.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages


def require_collected_static_files() -> None:
    """With debug off, pages name static files by their hashed names from the manifest that
    `collectstatic` writes; without it every page would answer 500, so refuse to start instead."""
    storage = storages["staticfiles"]
    if settings.DEBUG or not isinstance(storage, ManifestFilesMixin):
        return
    if storage.read_manifest() is None:
        raise ImproperlyConfigured(
            f"Static files are not collected in {settings.STATIC_ROOT} (DJANGO_STATIC_ROOT): "
            "run `manage.py collectstatic --noinput` before starting the server with debug off."
        )
