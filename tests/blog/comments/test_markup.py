"""Comments in Markdown: a small subset rendered on the server once, sanitised, and typed markup kept as text."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from blog.comments import markup
from blog.comments import services as comment_services
from blog.comments.markup import render_comment_body
from blog.models import Comment
from tests.factories import make_comment

pytestmark = pytest.mark.django_db

REL = 'rel="nofollow ugc noopener"'


@pytest.mark.parametrize(
    ("typed", "rendered"),
    [
        ("**strong** and _em_", "<p><strong>strong</strong> and <em>em</em></p>"),
        ("some `code`", "<p>some <code>code</code></p>"),
        ("```\nx = 1 < 2\n```", "<pre><code>x = 1 &lt; 2\n</code></pre>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("3. three", '<ol start="3">\n<li>three</li>\n</ol>'),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("first line\nsecond line", "<p>first line<br>\nsecond line</p>"),
        ("[site](https://example.com/a?b=1)", f'<p><a href="https://example.com/a?b=1" {REL}>site</a></p>'),
        ("<mailto:me@example.com>", f'<p><a href="mailto:me@example.com" {REL}>mailto:me@example.com</a></p>'),
    ],
)
def test_the_markdown_subset_renders(typed, rendered):
    assert render_comment_body(typed) == rendered


@pytest.mark.parametrize(
    ("typed", "absent"),
    [
        ("# A heading", "<h1"),
        ("Underlined\n===", "<h1"),
        ("![alt](https://example.com/a.png)", "<img"),
        ("---", "<hr"),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("<script>alert(1)</script>", "<script"),
        ('<a href="https://example.com">raw</a>', "<a "),
    ],
)
def test_what_is_outside_the_subset_is_not_rendered(typed, absent):
    assert absent not in render_comment_body(typed)


@pytest.mark.parametrize(("typed", "shown"), [("# Not a heading", "<p># Not a heading</p>"), ("---", "<p>---</p>")])
def test_headings_and_rules_stay_as_typed(typed, shown):
    """Switched off in the parser, not merely removed afterwards: the reader's text is kept."""
    assert render_comment_body(typed) == shown


def test_typed_html_shows_as_text():
    assert render_comment_body("<img src=x onerror=alert(1)>") == "<p>&lt;img src=x onerror=alert(1)&gt;</p>"


@pytest.mark.parametrize(
    "target", ["javascript:alert(1)", "data:text/html,hi", "/blog/", "//evil.example/", "ftp://x/"]
)
def test_links_go_only_to_http_https_and_mailto(target):
    assert "href" not in render_comment_body(f"[link]({target})")


def test_the_sanitiser_holds_whatever_the_parser_lets_through(monkeypatch):
    """nh3 is a second line: markup the parser should never emit is removed all the same."""
    hostile = '<h1>h</h1><img src=x><script>alert(1)</script><a href="javascript:x" onclick="y">z</a><p style="s">p</p>'
    monkeypatch.setattr(markup._parser, "render", lambda body, env=None: hostile)
    assert render_comment_body("anything") == f"h<a {REL}>z</a><p>p</p>"


def test_a_posted_comment_carries_its_rendered_body_in_its_json(post, reader):
    posted = comment_services.comment_post(post=post, author=reader, body="**hi** <b>there</b>")
    comment = Comment.objects.get(pk=posted.comment.pk)
    assert comment.body_html == "<p><strong>hi</strong> &lt;b&gt;there&lt;/b&gt;</p>"
    assert posted.comment.as_json()["html"] == comment.body_html
    assert posted.comment.as_json()["body"] == "**hi** <b>there</b>"


def test_an_edit_renders_the_new_body(post, reader):
    comment = make_comment(post, reader, body="plain")
    comment_services.comment_edit(comment=comment, actor=reader, body="now *emphasised*")
    comment.refresh_from_db()
    assert comment.body_html == "<p>now <em>emphasised</em></p>"


def test_bulk_created_comments_are_rendered_too(post, reader):
    Comment.objects.bulk_create([Comment(post=post, author=reader, body=f"**{n}**") for n in range(3)])
    assert sorted(Comment.objects.values_list("body_html", flat=True)) == [
        f"<p><strong>{n}</strong></p>" for n in range(3)
    ]


def test_the_migration_renders_the_comments_saved_before_it(post, reader):
    comment = make_comment(post, reader, body="_old_")
    Comment.objects.filter(pk=comment.pk).update(body_html="")
    migration = importlib.import_module("blog.migrations.0008_comment_body_html")
    migration.fill_body_html(django_apps, None)
    comment.refresh_from_db()
    assert comment.body_html == "<p><em>old</em></p>"


def test_the_post_page_and_the_json_show_the_rendered_body_and_typed_markup_as_text(client, post, reader):
    make_comment(post, reader, body="**bold** <img src=x onerror=alert(1)>")
    page = client.get(post.get_absolute_url()).content.decode()
    assert "<strong>bold</strong> &lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    [shown] = client.get(f"/blog/posts/{post.pk}/comments/", HTTP_ACCEPT="application/json").json()["comments"]
    assert shown["html"] == "<p><strong>bold</strong> &lt;img src=x onerror=alert(1)&gt;</p>"


def test_a_body_written_by_update_is_rendered_too(post, reader):
    comment = make_comment(post, reader, body="before")
    Comment.objects.filter(pk=comment.pk).update(body="*after*")
    comment.refresh_from_db()
    assert comment.body_html == "<p><em>after</em></p>"
