from __future__ import annotations

import pytest

from tests.factories import make_user


@pytest.fixture
def moderator(db):
    return make_user("mod", moderator=True)
