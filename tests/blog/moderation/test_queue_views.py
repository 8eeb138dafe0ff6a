"""GET /moderation/: for moderators only, oldest first, with forms that work without the script."""

from __future__ import annotations

import re
from html import unescape

import pytest

from blog.comments import services as comment_services
from blog.models import Comment
from blog.moderation import policy
from blog.moderation import services as moderation_services
from tests.factories import make_comment, make_post, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
QUEUE = "/moderation/"
ITEM_FIELDS = {
    "id",
    "status",
    "post",
    "author",
    "body",
    "html",
    "created",
    "held_reason",
    "flags",
    "flag_count",
    "url",
    "approve_url",
    "reject_url",
    "hide_url",
    "ban_url",
    "hold_url",
}
FORM = re.compile(r'<form method="post" action="([^"]+)">(.*?)</form>', re.S)


@pytest.fixture
def queue(settings, post, author, reader, moderator):
    """A flagged comment of the author's, then a held comment of the reader's, who has one comment
    published and one rejected already."""
    other_reader = make_user("other-reader")
    make_comment(post, reader, body="An earlier comment, published.")
    settings.BLOG_COMMENT_MODERATION = "all"
    rejected = comment_services.comment_post(post=post, author=reader, body="A comment that was rejected.").comment
    moderation_services.comment_reject(comment_id=rejected.pk, actor=moderator, reason="Off topic")
    settings.BLOG_COMMENT_MODERATION = "off"
    flagged = make_comment(post, author, body="Flagged **words**")
    for flagger in (reader, other_reader):
        moderation_services.comment_flag(comment_id=flagged.pk, user=flagger, reason="spam")
    settings.BLOG_COMMENT_MODERATION = "all"
    held = comment_services.comment_post(post=post, author=reader, body="Held _words_").comment
    return {"flagged": flagged, "held": held}


def forms_of(html: str, item_id: int) -> dict[str, str]:
    """The forms of one entry of the page: action -> the form's HTML."""
    entry = re.search(rf'<li [^>]*id="moderation-item-{item_id}".*?</li>', html, re.S).group(0)
    return {unescape(action): body for action, body in FORM.findall(entry)}


def button_text(form: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", re.search(r"<button[^>]*>(.*?)</button>", form, re.S).group(1)))


def test_an_anonymous_visitor_is_sent_to_log_in_and_a_json_client_gets_401(client):
    response = client.get(QUEUE)
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/moderation/")
    response = client.get(QUEUE, **JSON)
    assert (response.status_code, response.json()["code"]) == (401, "login_required")


def test_a_reader_who_does_not_moderate_gets_403(reader_client):
    assert reader_client.get(QUEUE).status_code == 403
    assert reader_client.get(QUEUE, **JSON).status_code == 403


def test_a_moderator_gets_held_and_flagged_comments_oldest_first_as_json(client, moderator, queue, reader):
    client.force_login(moderator)
    response = client.get(QUEUE, **JSON)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [queue["flagged"].pk, queue["held"].pk]
    flagged, held = items
    assert set(held) == ITEM_FIELDS
    assert (flagged["status"], flagged["flags"], flagged["flag_count"]) == ("published", {"spam": 2}, 2)
    assert (held["status"], held["held_reason"]) == ("pending", policy.REASON_ALL)
    assert held["author"] == {
        "id": reader.pk,
        "username": "reader",
        "active": True,
        "always_hold": False,
        "history": {"approved": 1, "rejected": 1, "removed": 0, "flags": 0},
    }
    assert held["post"]["url"] == queue["held"].post.get_absolute_url()
    assert held["html"] == "<p>Held <em>words</em></p>"


def test_the_page_lists_each_entry_with_its_status_reasons_and_history(client, moderator, queue):
    client.force_login(moderator)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert response.templates[0].name == "moderation/queue.html"
    page = response.content.decode()
    flagged_at = page.index(f'id="moderation-item-{queue["flagged"].pk}"')
    held_at = page.index(f'id="moderation-item-{queue["held"].pk}"')
    assert flagged_at < held_at  # oldest first
    flagged, held = page[flagged_at:held_at], page[held_at:]
    assert "Flagged</span>" in flagged
    assert "Flags: spam 2" in flagged
    assert "<strong>words</strong>" in flagged  # the sanitised HTML, not the Markdown
    assert "Awaiting approval" in held
    assert f"Held because {policy.REASON_ALL}." in unescape(held)
    assert "Author's history: 1 approved · 1 rejected · 0 removed · 0 flags" in held
    assert 'href="/blog/users/reader/">reader</a>' in held
    assert f'href="{queue["held"].post.get_absolute_url()}">A published post</a>' in held
    assert '<p id="moderation-empty" class="empty" hidden>' in page


def test_each_entry_offers_the_decisions_its_status_allows_as_plain_forms(client, moderator, queue, reader, author):
    client.force_login(moderator)
    page = client.get(QUEUE).content.decode()
    held_id, flagged_id = queue["held"].pk, queue["flagged"].pk
    held = forms_of(page, held_id)
    assert {action: button_text(form) for action, form in held.items()} == {
        f"/moderation/comments/{held_id}/approve/": "Approve",
        f"/moderation/comments/{held_id}/reject/": "Reject",
        f"/moderation/users/{reader.pk}/ban/": "Ban",
        f"/moderation/users/{reader.pk}/hold/": "Always hold",
    }
    flagged = forms_of(page, flagged_id)
    assert {action: button_text(form) for action, form in flagged.items()} == {
        f"/moderation/comments/{flagged_id}/approve/": "Dismiss flags",
        f"/moderation/comments/{flagged_id}/reject/": "Remove",
        f"/moderation/comments/{flagged_id}/hide/": "Hide",
        f"/moderation/users/{author.pk}/ban/": "Ban",
        f"/moderation/users/{author.pk}/hold/": "Always hold",
    }
    for form in [*held.values(), *flagged.values()]:
        assert 'name="csrfmiddlewaretoken"' in form
        assert '<input type="hidden" name="next" value="/moderation/">' in form
    # Each reason field has its label.
    reject_form = held[f"/moderation/comments/{held_id}/reject/"]
    assert f'<label for="moderation-reason-{held_id}">' in reject_form
    assert f'id="moderation-reason-{held_id}" name="reason"' in reject_form
    assert 'name="hold" value="1"' in held[f"/moderation/users/{reader.pk}/hold/"]


def test_a_plain_approve_form_publishes_and_comes_back_to_the_queue(client, moderator, queue):
    client.force_login(moderator)
    held_id = queue["held"].pk
    forms = forms_of(client.get(QUEUE).content.decode(), held_id)
    action = next(action for action in forms if action.endswith("/approve/"))
    response = client.post(action, {"next": "/moderation/"})
    assert (response.status_code, response["Location"]) == (302, "/moderation/")
    assert Comment.objects.get(pk=held_id).status == Comment.Status.PUBLISHED
    page = client.get(QUEUE).content.decode()
    assert "Comment published." in page
    assert f'id="moderation-item-{held_id}"' not in page


def test_hidden_comments_are_restored_or_removed_and_a_held_author_can_be_released(client, moderator, post, reader):
    comment = make_comment(post, reader, body="Hidden by a moderator.")
    moderation_services.comment_hide(comment_id=comment.pk, actor=moderator)
    moderation_services.user_hold_set(user_id=reader.pk, actor=moderator, hold=True)
    client.force_login(moderator)
    page = client.get(QUEUE).content.decode()
    assert "Hidden by a moderator</span>" in page
    forms = forms_of(page, comment.pk)
    assert {button_text(form) for form in forms.values()} == {"Restore", "Remove", "Ban", "Stop holding"}
    assert 'name="hold" value="0"' in forms[f"/moderation/users/{reader.pk}/hold/"]
    assert "(always held)" in page


def test_an_empty_queue_says_nothing_waits(client, moderator):
    client.force_login(moderator)
    page = client.get(QUEUE).content.decode()
    assert '<p id="moderation-empty" class="empty">Nothing waits for a decision.</p>' in page
    assert client.get(QUEUE, **JSON).json() == {"items": []}


def test_user_text_is_escaped_on_the_page(client, moderator, author, settings):
    post = make_post(author, title="<script>alert(1)</script>")
    settings.BLOG_COMMENT_MODERATION = "all"
    comment_services.comment_post(post=post, author=author, body="<img src=x onerror=alert(2)>")
    client.force_login(moderator)
    page = client.get(QUEUE).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page


def test_the_queue_is_never_cached(client, moderator):
    client.force_login(moderator)
    for response in (client.get(QUEUE), client.get(QUEUE, **JSON)):
        assert "max-age=0" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
        assert response.has_header("Expires")


def test_only_get_is_allowed(client, moderator):
    client.force_login(moderator)
    assert client.post(QUEUE).status_code == 405


def test_the_site_menu_leads_moderators_to_the_queue_and_nobody_else(client, reader_client, moderator):
    link = 'href="/moderation/"'
    assert link not in reader_client.get("/blog/").content.decode()
    client.force_login(moderator)
    assert link in client.get("/blog/").content.decode()
