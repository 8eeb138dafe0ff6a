"""The post body is rendered to HTML when it is saved, by every path, and pages show the stored HTML."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from blog.models import Post
from blog.posts import services as post_services
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

HOSTILE = "**bold** <script>alert(1)</script> <a href='javascript:alert(1)'>x</a>"


def assert_rendered_and_sanitised(html: str) -> None:
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html


def test_the_service_stores_the_rendered_body(author):
    post = post_services.post_create(author=author, title="T", body=HOSTILE, status=Post.Status.DRAFT)
    assert_rendered_and_sanitised(Post.objects.get(pk=post.pk).body_html)


def test_a_body_changed_in_the_admin_is_rendered_again(client, post):
    client.force_login(make_user("chief", editor=True, is_staff=True))
    form = {"title": post.title, "body": HOSTILE, "author": post.author_id, "status": post.status}
    response = client.post(f"/admin/blog/post/{post.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_rendered_and_sanitised(Post.objects.get(pk=post.pk).body_html)


def test_saving_only_the_body_saves_its_html_too(post):
    post.body = "*new*"
    post.save(update_fields=["body"])
    assert Post.objects.get(pk=post.pk).body_html == "<p><em>new</em></p>"


def test_saving_other_fields_leaves_the_html_alone(draft, editor):
    Post.objects.filter(pk=draft.pk).update(body_html="<p>as stored</p>")
    draft.refresh_from_db()
    post_services.post_publish(post=draft, actor=editor)
    assert Post.objects.get(pk=draft.pk).body_html == "<p>as stored</p>"


def test_pages_show_the_stored_html_without_rendering_it_again(client, post):
    Post.objects.filter(pk=post.pk).update(body_html="<p>rendered when saved</p>")
    assert "<p>rendered when saved</p>" in client.get(post.get_absolute_url()).content.decode()
    assert "rendered when saved" in client.get("/blog/").content.decode()


def test_the_migration_renders_the_bodies_of_existing_posts(author):
    posts = [make_post(author, body=f"**post {n}**") for n in range(3)]
    Post.objects.update(body_html="")
    migration = importlib.import_module("blog.migrations.0007_post_body_html")
    migration.fill_body_html(django_apps, schema_editor=None)
    for n, post in enumerate(posts):
        assert Post.objects.get(pk=post.pk).body_html == f"<p><strong>post {n}</strong></p>"
