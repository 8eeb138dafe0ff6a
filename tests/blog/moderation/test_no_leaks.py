"""A held or hidden comment reaches no reader over HTTP: not the page, the JSON, a count, a thread page,
the index, or the writes' answers; its author and the moderators are the exceptions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from blog.comments import services as comment_services
from blog.models import Notification
from blog.moderation import services as moderation
from tests.factories import make_comment, make_reply, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
SECRET = "Words nobody may read yet"


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def readers_views(post, comment) -> dict[str, str]:
    """Every page a reader could find a comment on, by name."""
    return {
        "post page": reverse("blog:post_detail", args=[post.pk]),
        "comments JSON": reverse("blog:post_comments", args=[post.pk]),
        "comments JSON after": reverse("blog:post_comments", args=[post.pk]) + "?after=0",
        "index": reverse("blog:post_list"),
    }


def assert_nowhere_for(client: Client, post, comment) -> None:
    for name, url in readers_views(post, comment).items():
        for headers in ({}, JSON):
            body = client.get(url, **headers).content.decode()
            assert SECRET not in body, f"{name} shows it"
            assert f'"id": {comment.pk},' not in body and f'id="comment-{comment.pk}"' not in body, name
    page = client.get(reverse("blog:post_detail", args=[post.pk])).content.decode()
    assert ">1 comment<" in page, "the heading counts only what readers may see"
    assert client.get(reverse("blog:comment_thread", args=[comment.pk])).status_code == 404


@pytest.fixture
def visible(post, author):
    return make_comment(post, author, body="Everyone may read this")


def test_a_held_comment_is_on_no_page_for_anyone_but_its_author_and_the_moderators(
    settings, post, author, reader, visible, client
):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = comment_services.comment_post(post=post, author=reader, body=f"{SECRET} @{author.username}").comment

    for someone in (client, client_of(author), client_of(make_user())):
        assert_nowhere_for(someone, post, held)
    assert not Notification.objects.exists()
    assert client_of(author).get(reverse("notification_list"), **JSON).json()["notifications"] == []


def test_a_comment_hidden_by_flags_leaves_every_page_even_one_cached_before(
    settings, post, author, reader, visible, client, django_capture_on_commit_callbacks
):
    settings.BLOG_FLAG_THRESHOLD = 1
    comment = make_comment(post, reader, body=SECRET)
    make_reply(comment, author, body="An answer under it")
    for url in readers_views(post, comment).values():  # cached while it was published
        assert SECRET in client.get(url).content.decode() or url.endswith("/blog/")

    with django_capture_on_commit_callbacks(execute=True):
        moderation.comment_flag(comment_id=comment.pk, user=make_user(), reason="abuse")

    # Its reply goes with it, uncounted, until a moderator decides.
    assert_nowhere_for(client, post, comment)
    assert "An answer under it" not in client.get(reverse("blog:post_detail", args=[post.pk])).content.decode()


def test_a_reader_cannot_touch_someone_elses_held_comment_or_learn_it_exists(settings, post, author, reader):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = comment_services.comment_post(post=post, author=author, body=SECRET).comment
    someone = client_of(reader)
    for name in ("blog:comment_delete", "blog:comment_edit", "blog:comment_flag"):
        response = someone.post(reverse(name, args=[held.pk]), {"body": "x", "reason": "spam"}, **JSON)
        assert response.status_code == 404, name
    assert someone.get(reverse("blog:comment_edit", args=[held.pk])).status_code == 404


def test_posting_a_held_comment_over_http_says_it_awaits_approval(settings, post, reader_client):
    settings.BLOG_COMMENT_MODERATION = "all"
    url = reverse("blog:post_comments", args=[post.pk])

    answer = reader_client.post(url, {"body": "Over JSON"}, **JSON)
    assert answer.status_code == 201 and answer.json()["comment"]["status"] == "pending"

    page = reader_client.post(url, {"body": "Over a form"}, follow=True)
    assert "awaiting approval" in page.content.decode()


def test_moderators_decide_over_http_and_others_are_refused(settings, post, author, reader, moderator):
    settings.BLOG_COMMENT_MODERATION = "all"
    first, second = (comment_services.comment_post(post=post, author=reader, body=f"Held {n}").comment for n in (1, 2))
    approve = reverse("moderation_approve", args=[first.pk])

    assert Client().post(approve, **JSON).status_code == 401
    refused = client_of(author).post(approve, **JSON)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")

    deciding = client_of(moderator)
    assert deciding.post(approve, **JSON).json()["done"] == "approve"
    rejected = deciding.post(reverse("moderation_reject", args=[second.pk]), {"reason": "No thanks", "next": "/x/"})
    assert rejected.status_code == 302 and rejected["Location"] == "/x/"
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("published", "rejected")
    assert Notification.objects.get(kind="rejected").note == "No thanks"
    # A redirect to another site is not followed.
    again = deciding.post(reverse("moderation_hide", args=[first.pk]), {"next": "https://elsewhere.example/"})
    assert again["Location"] == reverse("moderation_queue")


def test_a_moderator_bans_over_http(post, reader, moderator):
    response = client_of(moderator).post(reverse("moderation_ban", args=[reader.pk]), {"reason": "Spam"}, **JSON)
    assert response.json()["done"] == "ban"
    reader.refresh_from_db()
    assert not reader.is_active


def test_the_author_of_a_rejected_comment_reads_why_in_their_notifications(settings, post, reader, moderator):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = comment_services.comment_post(post=post, author=reader, body="Please?").comment
    moderation.comment_reject(comment_id=held.pk, actor=moderator, reason="Please stay on topic")

    page = client_of(reader).get(reverse("notification_list")).content.decode()

    assert "did not approve your comment on" in page and "The moderator said: Please stay on topic" in page
    assert f'href="{post.get_absolute_url()}"' in page


def test_the_replies_under_a_hidden_comment_go_with_it_everywhere(settings, post, author, reader, client):
    top = make_comment(post, author, body="Top")
    hidden = make_reply(top, reader, body=SECRET)
    make_reply(hidden, author, body="An answer to the hidden one")
    moderation.comment_hide(comment_id=hidden.pk, actor=make_user(moderator=True))

    page = client.get(reverse("blog:post_detail", args=[post.pk])).content.decode()
    listed = client.get(reverse("blog:post_comments", args=[post.pk]) + "?after=0", **JSON).json()["comments"]

    assert SECRET not in page and "An answer to the hidden one" not in page
    assert [comment["id"] for comment in listed] == [top.pk]
    assert ">1 comment<" in page
