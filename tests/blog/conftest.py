"""Fixtures the blog's tests share."""

from __future__ import annotations

import pytest

from blog import events


@pytest.fixture
def heard(monkeypatch, django_capture_on_commit_callbacks):
    """The events announced by what runs inside `with heard.committing():`, once it commits."""

    class Heard(list):
        def committing(self):
            return django_capture_on_commit_callbacks(execute=True)

        def of(self, kind: type) -> list:
            return [event for event in self if isinstance(event, kind)]

    recorded = Heard()
    monkeypatch.setattr(events, "_handlers", [recorded.append])
    return recorded
