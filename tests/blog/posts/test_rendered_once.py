"""A post's HTML and search document are computed when it (or its tags) is saved, never when it is read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from blog.comments import models as comment_models
from blog.posts import models as post_models
from blog.posts import services as post_services
from blog.search import documents
from tests.factories import make_comment, make_post

pytestmark = pytest.mark.django_db


def on_postgresql() -> int:
    """1 where the search vector is computed (PostgreSQL), else 0."""
    return int(connection.vendor == "postgresql")


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """Count every rendering of a post or comment body and every search document computed."""
    counted: Counter = Counter()

    def counting(name: str, function: Callable) -> Callable:
        def wrapper(*args: object, **kwargs: object) -> object:
            counted[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(post_models, "render_post_body", counting("post body", post_models.render_post_body))
    monkeypatch.setattr(comment_models, "rendered_bodies", counting("comment body", comment_models.rendered_bodies))
    for name in ("plain_text", "document", "search_text", "search_vector"):
        monkeypatch.setattr(documents, name, counting(name, getattr(documents, name)))
    return counted


def test_pages_feeds_and_search_never_render_a_post_nor_compute_its_document(client, author, reader, calls):
    post = make_post(author, title="Rendered once", body="Some **Markdown** with a needle.")
    post.tags.set(["ferns", "mosses"])
    make_comment(post, reader, body="A *comment* with a needle.")
    calls.clear()
    for url in (
        "/blog/",
        post.get_absolute_url(),
        post.get_absolute_url(),  # cached
        "/blog/tags/ferns/",
        "/blog/feed/",
        "/blog/tags/ferns/feed/",
        f"/blog/posts/{post.pk}/comments/feed/",
        "/search/?q=needle",
        "/search/?q=ferns",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Rendered once" in response.content or b"needle" in response.content, url
    assert calls == Counter()


def test_a_new_post_is_rendered_once_and_its_tags_stored_with_one_document(author, calls):
    post_services.post_create(author=author, title="New", body="Body", status="published", tags=["a", "b"])
    # The post's save renders it and stores its document; adding its tags stores the document again.
    assert calls == Counter(
        {"post body": 1, "plain_text": 1, "document": 2, "search_text": 2, "search_vector": 2 * on_postgresql()}
    )


def test_a_title_change_stores_the_document_without_rendering_the_body(author, calls):
    post = make_post(author)
    calls.clear()
    post.title = "Renamed"
    post.save(update_fields=["title"])
    assert calls == Counter({"document": 1, "search_text": 1, "search_vector": on_postgresql()})
    post.refresh_from_db()
    assert post.search_text.startswith("renamed\n")


def test_publishing_renders_and_computes_nothing(author, editor, calls):
    draft = make_post(author, published=False)
    calls.clear()
    post_services.post_publish(post=draft, actor=editor)
    assert calls == Counter()
