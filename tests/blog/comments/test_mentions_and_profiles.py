"""@name mentions link to the public profile of an existing user; the profile shows what they published."""

from __future__ import annotations

import pytest

from blog.comments import services as comment_services
from blog.comments.markup import render_comment_body
from blog.models import Comment
from tests.factories import make_comment, make_post, make_user

pytestmark = pytest.mark.django_db

REL = 'rel="nofollow ugc noopener"'


def mention(name: str) -> str:
    return f'<a href="/blog/users/{name}/" class="mention" {REL}>@{name}</a>'


def test_a_mention_of_a_known_name_links_to_the_profile():
    assert render_comment_body("thanks @ann.", mentionable={"ann"}) == f"<p>thanks {mention('ann')}.</p>"


@pytest.mark.parametrize(
    "typed",
    ["hi @bob", "`@ann` in code", "[@ann](https://example.com)", "mail ann@ann.example", "@@ann"],
)
def test_unknown_names_code_links_and_addresses_stay_text(typed):
    assert 'class="mention"' not in render_comment_body(typed, mentionable={"ann"})


def test_names_with_dots_and_dashes_are_mentioned_whole():
    html = render_comment_body("@j.doe-2 and @x", mentionable={"j.doe-2", "x"})
    assert mention("j.doe-2") in html and mention("x") in html


def test_relative_links_are_kept_only_to_profiles():
    assert f'<a href="/blog/users/ann/" {REL}>' in render_comment_body("[her page](/blog/users/ann/)")
    assert "href" not in render_comment_body("[admin](/admin/)")


def test_saved_comments_link_the_active_users_they_mention(post, reader):
    make_user("ann")
    make_user("gone", is_active=False)
    posted = comment_services.comment_post(post=post, author=reader, body="@ann @gone @nobody")
    assert posted.comment.as_json()["html"] == f"<p>{mention('ann')} @gone @nobody</p>"
    Comment.objects.bulk_create([Comment(post=post, author=reader, body="also @ann")])
    assert Comment.objects.filter(body_html__contains='class="mention"').count() == 2


def test_a_comment_without_a_mention_looks_no_one_up(post, reader, django_assert_num_queries):
    comment = Comment(post=post, author=reader, body="no one named")
    with django_assert_num_queries(1):  # the insert
        comment.save()


def test_the_profile_shows_published_posts_and_comments_on_them(client, author, reader):
    published = make_post(author, title="Out in the open")
    draft = make_post(author, published=False, title="Still private")
    make_comment(published, author, body="said **publicly**")
    make_comment(draft, author, body="said in a draft")
    response = client.get(f"/blog/users/{author.username}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Out in the open" in page and "<strong>publicly</strong>" in page
    assert "Still private" not in page and "said in a draft" not in page
    assert "public" in response["Cache-Control"]


def test_unknown_and_deactivated_users_have_no_profile(client):
    make_user("left", is_active=False)
    assert client.get("/blog/users/nobody/").status_code == 404
    assert client.get("/blog/users/left/").status_code == 404


def test_the_profiles_comments_are_paginated(client, post, reader):
    Comment.objects.bulk_create([Comment(post=post, author=reader, body=f"remark {n:02}") for n in range(25)])
    first = client.get(f"/blog/users/{reader.username}/").content.decode()
    second = client.get(f"/blog/users/{reader.username}/?comments=2").content.decode()
    assert "remark 24" in first and "remark 04" not in first
    assert "remark 04" in second and "remark 24" not in second
    assert "Page 1 of 2" in first


def test_post_bylines_link_to_the_authors_profile(client, post, author):
    assert f'href="/blog/users/{author.username}/"' in client.get(post.get_absolute_url()).content.decode()
