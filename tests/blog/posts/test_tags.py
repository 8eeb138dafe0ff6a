"""Tags: written with the post, shown as links on the index and the post page, each with its page of posts."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from taggit.models import Tag

from blog.models import Post
from blog.posts import services as post_services
from blog.posts import tags as post_tags
from tests.blog.comments.test_pages import add_comments
from tests.blog.test_page_cache import warm
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    """Run what the blog publishes after a commit, as a real commit would (tests run inside a transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def tagged(author, *names: str, published: bool = True, title: str | None = None) -> Post:
    post = make_post(author, published=published, title=title)
    post.tags.set(list(names))
    return post


def tag_links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="(/blog/tags/[^"]+/)" rel="tag">([^<]*)</a>', html)


def post_titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/blog/posts/\d+/">([^<]*)</a></h2>', html)


def form_data(**fields: str) -> dict[str, str]:
    return {"title": "Tagged", "body": "Body.", "status": "published", **fields}


def test_the_post_form_saves_tags_and_the_post_page_links_each_to_its_page(client, editor):
    client.force_login(editor)
    response = client.post("/blog/posts/new/", form_data(tags="Django, async views"))
    post = Post.objects.get(title="Tagged")
    assert response.status_code == 302
    assert sorted(post.tags.names()) == ["Django", "async views"]
    html = client.get(post.get_absolute_url()).content.decode()
    assert tag_links(html) == [("/blog/tags/async-views/", "async views"), ("/blog/tags/django/", "Django")]


def test_the_post_form_shows_its_tags_field(client, author):
    client.force_login(author)
    html = client.get("/blog/posts/new/").content.decode()
    assert 'name="tags"' in html and "Separated by commas" in html


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (", ".join(f"tag{n}" for n in range(11)), post_tags.MESSAGE_TOO_MANY_TAGS),
        ("x" * 51, post_tags.MESSAGE_TAG_TOO_LONG.format(name="x" * 20)),
        ("!!!, fine", post_tags.MESSAGE_TAG_NEEDS_A_WORD.format(name="!!!")),
        ("bad\x07bell", post_tags.MESSAGE_TAG_CONTROL_CHARACTER),
    ],
)
def test_the_post_form_refuses_tags_that_cannot_be_tags_and_saves_nothing(client, editor, tags, message):
    client.force_login(editor)
    response = client.post("/blog/posts/new/", form_data(tags=tags))
    assert response.status_code == 200
    assert response.context["form"].errors["tags"] == [message]
    assert not Post.objects.exists() and not Tag.objects.exists()


def test_the_post_form_refuses_an_overlong_tags_input_before_parsing_it(client, editor):
    client.force_login(editor)
    response = client.post("/blog/posts/new/", form_data(tags="a," * 400))
    assert response.status_code == 200 and response.context["form"].errors["tags"]
    assert not Post.objects.exists()


def test_the_service_checks_tags_too(author):
    with pytest.raises(ValidationError) as refused:
        post_services.post_create(author=author, title="T", body="B", status="draft", tags=["?"])
    assert refused.value.messages == [post_tags.MESSAGE_TAG_NEEDS_A_WORD.format(name="?")]
    assert not Post.objects.exists()


def test_tags_differing_only_in_case_are_one_tag(author):
    first = tagged(author, "Django")
    second = tagged(author, "django")
    assert Tag.objects.count() == 1
    assert first.tag_names() == second.tag_names() == ["Django"]


def test_the_index_shows_each_posts_tags_as_links(client, author):
    tagged(author, "python", "web", title="Tagged one")
    make_post(author, title="Untagged one")
    html = client.get("/blog/").content.decode()
    assert tag_links(html) == [("/blog/tags/python/", "python"), ("/blog/tags/web/", "web")]


def test_the_index_reads_the_tags_of_all_its_posts_with_its_one_query(
    client, author, reader, django_assert_num_queries
):
    """Tags come in the posts' own query (a subquery), as comment counts do: no query per post, none more."""
    for n in range(8):
        add_comments(tagged(author, *(f"tag {n} {m}" for m in range(5)), title=f"Post {n}"), reader, n)
    # The paginator's count, then the posts with their authors, comment counts and tags.
    with django_assert_num_queries(2):
        html = client.get("/blog/").content.decode()
    assert len(tag_links(html)) == 8 * 5


def test_a_cold_post_page_reads_its_tags_with_the_post(client, author, django_assert_num_queries):
    post = tagged(author, "one", "two")
    # The post with its comment versions and tags, the page of comments, the count: as without tags.
    with django_assert_num_queries(3):
        html = client.get(post.get_absolute_url()).content.decode()
    assert [name for _, name in tag_links(html)] == ["one", "two"]


def test_the_cached_post_carries_its_tags(client, author, django_assert_num_queries):
    post = tagged(author, "cached")
    warm(client, post)
    with django_assert_num_queries(0):
        html = client.get(post.get_absolute_url()).content.decode()
    assert tag_links(html) == [("/blog/tags/cached/", "cached")]


def test_a_tag_added_through_taggit_shows_on_a_cached_post_page_at_once(client, author, published):
    post = tagged(author, "old")
    warm(client, post)
    with published():
        post.tags.add("new")
    assert [name for _, name in tag_links(client.get(post.get_absolute_url()).content.decode())] == ["new", "old"]


def test_a_tag_removed_or_cleared_drops_from_a_cached_post_page_at_once(client, author, published):
    post = tagged(author, "stays", "goes")
    warm(client, post)
    with published():
        post.tags.remove("goes")
    assert [name for _, name in tag_links(client.get(post.get_absolute_url()).content.decode())] == ["stays"]
    with published():
        post.tags.clear()
    assert tag_links(client.get(post.get_absolute_url()).content.decode()) == []


def test_a_tag_edit_in_the_admin_shows_on_a_cached_post_page_at_once(client, author, published):
    chief = make_user("chief", editor=True, is_staff=True)
    post = tagged(author, "before")
    warm(client, post)
    admin = client.__class__()
    admin.force_login(chief)
    fields = {"title": post.title, "body": post.body, "author": author.pk, "status": "published", "tags": "after"}
    with published():
        response = admin.post(f"/admin/blog/post/{post.pk}/change/", fields)
    assert response.status_code == 302
    assert tag_links(client.get(post.get_absolute_url()).content.decode()) == [("/blog/tags/after/", "after")]


def test_the_admin_refuses_tags_the_form_refuses(client, author):
    chief = make_user("chief", editor=True, is_staff=True)
    post = tagged(author, "kept")
    client.force_login(chief)
    fields = {"title": post.title, "body": post.body, "author": author.pk, "status": "published", "tags": "%%%"}
    response = client.post(f"/admin/blog/post/{post.pk}/change/", fields)
    assert response.status_code == 200
    assert post_tags.MESSAGE_TAG_NEEDS_A_WORD.format(name="%%%") in response.content.decode()
    assert post.tag_names() == ["kept"]


def test_a_tag_renamed_in_the_admin_shows_on_its_cached_posts_at_once(client, author, published):
    chief = make_user("chief", is_staff=True, is_superuser=True)  # taggit's tag permissions
    post = tagged(author, "Pyhton")
    warm(client, post)
    tag = Tag.objects.get(name="Pyhton")
    admin = client.__class__()
    admin.force_login(chief)
    with published():
        response = admin.post(f"/admin/taggit/tag/{tag.pk}/change/", {"name": "Python", "slug": "python"})
    assert response.status_code == 302
    assert tag_links(client.get(post.get_absolute_url()).content.decode()) == [("/blog/tags/python/", "Python")]


def test_a_tag_deleted_leaves_its_cached_posts_at_once(client, author, published):
    post = tagged(author, "doomed", "kept")
    warm(client, post)
    with published():
        Tag.objects.get(name="doomed").delete()
    assert [name for _, name in tag_links(client.get(post.get_absolute_url()).content.decode())] == ["kept"]


def test_a_tag_page_lists_its_published_posts_newest_first_and_never_a_draft(client, author):
    tagged(author, "shared", title="Older")
    tagged(author, "shared", title="Newer")
    tagged(author, "shared", title="Secret draft", published=False)
    tagged(author, "other", title="Elsewhere")
    response = client.get("/blog/tags/shared/")
    html = response.content.decode()
    assert response.status_code == 200
    assert post_titles(html) == ["Newer", "Older"]
    assert "Posts tagged" in html and "Secret draft" not in html


def test_a_tag_page_is_paged_as_the_index_is(client, author, settings):
    settings.BLOG_POSTS_PER_PAGE = 2
    for n in range(5):
        tagged(author, "many", title=f"Many {n}")
    assert post_titles(client.get("/blog/tags/many/").content.decode()) == ["Many 4", "Many 3"]
    last = client.get("/blog/tags/many/", {"page": 3}).content.decode()
    assert post_titles(last) == ["Many 0"] and "Page 3 of 3" in last


def test_a_tag_only_drafts_carry_has_no_page(client, author):
    """Its name would tell readers what an unpublished post is about."""
    tagged(author, "unannounced", published=False)
    assert client.get("/blog/tags/unannounced/").status_code == 404
    assert client.get("/blog/tags/no-such-tag/").status_code == 404


def test_a_tag_page_takes_a_fixed_number_of_queries(client, author, django_assert_num_queries):
    for n in range(6):
        tagged(author, "busy", f"extra {n}")
    # The tag, the paginator's count, the posts with their authors, comment counts and tags.
    with django_assert_num_queries(3):
        assert client.get("/blog/tags/busy/").status_code == 200


def test_tag_names_are_shown_escaped(client, author):
    tagged(author, "<b>bold</b>")
    html = client.get("/blog/").content.decode()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_a_unicode_tag_has_a_page(client, author):
    tagged(author, "café", title="Coffee")
    [(url, name)] = tag_links(client.get("/blog/").content.decode())
    assert name == "café"
    assert post_titles(client.get(url).content.decode()) == ["Coffee"]
