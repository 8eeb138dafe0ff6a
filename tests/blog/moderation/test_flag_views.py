"""Flagging a comment over HTTP: the Flag link, the page that asks why, and what a flag answers."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from blog.comments import services as comment_services
from blog.models import Comment, Flag, Post
from blog.moderation import services as moderation
from blog.moderation.views import MESSAGE_FLAGGED, MESSAGE_FLAGGED_AND_HIDDEN
from tests.factories import make_comment, make_reply, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
BODY = "Cheap watches, click here"


@pytest.fixture
def comment(post, author):
    return make_comment(post, author, body=BODY)


def flag_url(comment: Comment) -> str:
    return f"/blog/comments/{comment.pk}/flag/"


def comments_json(client: Client, post: Post) -> list[str]:
    response = client.get(f"/blog/posts/{post.pk}/comments/", **JSON)
    return [comment["body"] for comment in response.json()["comments"]]


def test_the_flag_page_shows_the_comment_and_the_reasons(reader_client, comment):
    response = reader_client.get(flag_url(comment))
    html = response.content.decode()
    assert response.status_code == 200
    assert BODY in html and "author" in html
    labels = re.findall(
        r'<input type="radio" name="reason" value="([^"]+)" id="([^"]+)" required>\s*<label for="\2">([^<]+)</label>',
        html,
    )
    assert [(value, label) for value, _, label in labels] == [
        ("spam", "Spam"),
        ("abuse", "Abuse"),
        ("off-topic", "Off-topic"),
        ("other", "Other"),
    ]
    assert '<button type="submit">Flag this comment</button>' in html


def test_a_flag_is_recorded_and_the_reader_returns_to_the_comment(reader_client, reader, comment, post):
    response = reader_client.post(flag_url(comment), {"reason": "spam"})
    assert (response.status_code, response["Location"]) == (302, f"{post.get_absolute_url()}#comment-{comment.pk}")
    assert list(Flag.objects.values_list("comment_id", "user_id", "reason")) == [(comment.pk, reader.pk, "spam")]
    assert MESSAGE_FLAGGED in reader_client.get(response["Location"]).content.decode()


def test_a_flag_as_json(reader_client, comment):
    response = reader_client.post(flag_url(comment), {"reason": "off-topic"}, **JSON)
    assert (response.status_code, response.json()) == (
        200,
        {"flagged": comment.pk, "hidden": False, "message": MESSAGE_FLAGGED},
    )


def test_a_second_flag_is_refused_with_the_reason(reader_client, comment):
    assert reader_client.post(flag_url(comment), {"reason": "spam"}).status_code == 302

    again = reader_client.post(flag_url(comment), {"reason": "abuse"})
    assert again.status_code == 403
    html = again.content.decode()
    assert moderation.MESSAGE_FLAGGED_ALREADY in html
    assert 'value="abuse" id="flag-reason-abuse" required checked' in html, "the form keeps the choice"
    as_json = reader_client.post(flag_url(comment), {"reason": "abuse"}, **JSON)
    assert (as_json.status_code, as_json.json()) == (
        403,
        {"code": "forbidden", "message": moderation.MESSAGE_FLAGGED_ALREADY},
    )
    assert Flag.objects.count() == 1


def test_no_one_flags_their_own_comment(client, author, comment):
    client.force_login(author)
    response = client.post(flag_url(comment), {"reason": "spam"})
    assert response.status_code == 403
    assert moderation.MESSAGE_FLAG_OWN in response.content.decode()
    assert client.post(flag_url(comment), {"reason": "spam"}, **JSON).json()["code"] == "forbidden"
    assert not Flag.objects.exists()


@pytest.mark.parametrize("reason", ["", "boring", "SPAM"])
def test_a_flag_needs_one_of_the_reasons(reader_client, comment, reason):
    response = reader_client.post(flag_url(comment), {"reason": reason})
    assert response.status_code == 400
    assert moderation.MESSAGE_FLAG_REASON in response.content.decode()
    as_json = reader_client.post(flag_url(comment), {"reason": reason}, **JSON)
    assert (as_json.status_code, as_json.json()["code"]) == (400, "invalid")
    assert not Flag.objects.exists()


def test_anonymous_readers_are_sent_to_log_in(client, comment):
    response = client.get(flag_url(comment))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={flag_url(comment)}"
    assert client.post(flag_url(comment), {"reason": "spam"}).status_code == 302
    as_json = client.post(flag_url(comment), {"reason": "spam"}, **JSON)
    assert (as_json.status_code, as_json.json()["code"]) == (401, "login_required")
    assert not Flag.objects.exists()


def test_comments_a_reader_may_not_see_are_404(reader_client, author, post, draft):
    on_a_draft = make_comment(draft, author)
    held = make_comment(post, author, status=Comment.Status.PENDING)
    hidden = make_comment(post, author, status=Comment.Status.HIDDEN)
    rejected = make_comment(post, author, status=Comment.Status.REJECTED)
    parent = make_comment(post, author)
    make_reply(parent, make_user())
    comment_services.comment_delete(comment=parent, actor=author)  # a placeholder stays for the reply
    for comment in (on_a_draft, held, hidden, rejected, parent):
        assert reader_client.get(flag_url(comment)).status_code == 404, comment.status
        assert reader_client.post(flag_url(comment), {"reason": "spam"}).status_code == 404
    assert reader_client.get("/blog/comments/999999/flag/").status_code == 404
    assert not Flag.objects.exists()


def test_at_the_threshold_the_comment_leaves_the_page_and_the_list_for_readers(
    settings, client, post, comment, django_capture_on_commit_callbacks
):
    """The pages are cached; a hiding is a numbered change, so the next read is of a new version."""
    settings.BLOG_FLAG_THRESHOLD = 2
    reader = Client()
    reader.force_login(make_user())
    for each in (client, reader):  # every cache warm: the post, the page, the JSON list
        assert BODY in each.get(post.get_absolute_url()).content.decode()
        assert comments_json(each, post) == [BODY]

    flaggers = [make_user(), make_user()]
    answers = []
    for flagger in flaggers:
        flagging = Client()
        flagging.force_login(flagger)
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(flagging.post(flag_url(comment), {"reason": "abuse"}, **JSON).json())
    assert [answer["hidden"] for answer in answers] == [False, True]
    assert answers[1]["message"] == MESSAGE_FLAGGED_AND_HIDDEN

    for each in (client, reader):
        html = each.get(post.get_absolute_url()).content.decode()
        assert BODY not in html and f'id="comment-{comment.pk}"' not in html
        assert "0 comments" in html
        assert comments_json(each, post) == []


def test_a_flag_that_hides_returns_the_reader_to_the_post(settings, reader_client, comment, post):
    settings.BLOG_FLAG_THRESHOLD = 1
    response = reader_client.post(flag_url(comment), {"reason": "spam"})
    assert (response.status_code, response["Location"]) == (302, post.get_absolute_url())
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.HIDDEN


def flag_links(html: str) -> list[int]:
    return [
        int(found) for found in re.findall(r'<a class="comment-flag" href="/blog/comments/(\d+)/flag/">Flag</a>', html)
    ]


def test_signed_in_readers_get_a_flag_link_on_others_comments_only(client, post, author, reader, editor):
    theirs = make_comment(post, author, body="the author's")
    mine = make_comment(post, reader, body="the reader's")
    gone = make_comment(post, author, body="deleted, with a reply")
    make_reply(gone, editor)
    comment_services.comment_delete(comment=gone, actor=author)
    answer = Comment.objects.get(parent=gone)
    assert flag_links(client.get(post.get_absolute_url()).content.decode()) == []

    client.force_login(reader)
    html = client.get(post.get_absolute_url()).content.decode()
    assert flag_links(html) == [theirs.pk, answer.pk], "not their own, not a placeholder"
    assert re.findall(r'action="/blog/comments/(\d+)/delete/"', html) == [str(mine.pk)]

    client.force_login(editor)
    html = client.get(post.get_absolute_url()).content.decode()
    assert flag_links(html) == [theirs.pk, mine.pk]
    assert len(re.findall(r'action="/blog/comments/(\d+)/delete/"', html)) == 3
