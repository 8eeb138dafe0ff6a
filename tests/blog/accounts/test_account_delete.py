"""Delete my account: two deliberate acts, then everything personal goes and only what others need stays."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils.html import escape
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog import events
from blog.accounts import names
from blog.accounts.data import services as data_services
from blog.accounts.data.forms import MESSAGE_CHOOSE_HEIR
from blog.comments import likes as comment_likes
from blog.comments import services as comment_services
from blog.models import (
    Comment,
    CommentLike,
    CommentRevision,
    EmailDelivery,
    Flag,
    Follow,
    ModerationAction,
    Notification,
    NotificationPreferences,
    Post,
    User,
    UserSession,
)
from blog.moderation import services as moderation_services
from tests.blog.accounts.two_factor.helpers import enrol, verified_client
from tests.factories import (
    PASSWORD,
    make_comment,
    make_email_delivery,
    make_notification,
    make_post,
    make_reply,
    make_user,
    make_verified_user,
)

pytestmark = pytest.mark.django_db

DELETE_URL = "/accounts/delete/"


@pytest.fixture
def rita():
    return make_verified_user("rita", first_name="Rita", last_name="Levi", always_hold=True)


def signed_in(user: User) -> tuple[Client, str]:
    """A browser logged in as the user, its sign-in on record as the sessions middleware keeps it."""
    browser = Client()
    browser.force_login(user)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    UserSession.objects.create(user=user, session_key=key, device="Firefox on Linux")
    return browser, key


def confirm(browser: Client, **fields: str) -> object:
    form = {"password": PASSWORD, "understand": "on", **fields}
    return browser.post(DELETE_URL, form)


def logged_in(browser: Client) -> bool:
    return browser.get("/accounts/").status_code == 200


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_a_wrong_password_is_refused_with_a_form_error_and_nothing_changes(rita):
    make_comment(make_post(make_user()), rita)
    browser, _ = signed_in(rita)
    response = confirm(browser, password="not-my-password")
    assert response.status_code == 200
    assert response.context["form"].errors["password"] == [data_services.MESSAGE_WRONG_PASSWORD]
    assert escape(data_services.MESSAGE_WRONG_PASSWORD) in response.content.decode()
    rita_now = fresh(rita)
    assert (rita_now.username, rita_now.email, rita_now.is_active) == ("rita", "rita@example.com", True)
    assert Comment.objects.filter(author=rita).exists()
    assert logged_in(browser)


def test_without_i_understand_nothing_changes(rita):
    browser, _ = signed_in(rita)
    response = browser.post(DELETE_URL, {"password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["understand"]
    assert fresh(rita).is_active and logged_in(browser)


def test_the_service_checks_the_password_itself(rita):
    with pytest.raises(ValidationError) as refused:
        data_services.account_delete(user=rita, password="", posts_to=None)
    assert refused.value.message_dict == {"password": [data_services.MESSAGE_WRONG_PASSWORD]}
    assert fresh(rita).is_active


def test_the_form_needs_a_csrf_token(rita):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(rita)
    assert browser.post(DELETE_URL, {"password": PASSWORD, "understand": "on"}).status_code == 403
    assert fresh(rita).is_active


def test_the_pages_need_a_login(client):
    assert client.get(DELETE_URL).url.startswith("/accounts/login/")


def test_a_deleted_account_is_inactive_anonymous_and_logged_out_everywhere(rita):
    rita.groups.add(*[make_user(moderator=True).groups.get()])
    rita.user_permissions.add(Permission.objects.get(codename="add_post"))
    browser, key = signed_in(rita)
    other_browser, other_key = signed_in(rita)
    untracked_browser = Client()  # a sign-in from before sign-ins were recorded
    untracked_browser.force_login(rita)

    response = confirm(browser)

    assert response.status_code == 302 and response.url == "/accounts/deleted/"
    page = browser.get(response.url).content.decode()
    assert "Your account is deleted" in page and "deleted-" in page
    gone = fresh(rita)
    assert gone.username == f"deleted-{rita.pk}"
    assert gone.username_skeleton == names.username_skeleton(gone.username)
    assert (gone.email, gone.verified_email, gone.first_name, gone.last_name) == ("", "", "", "")
    assert not gone.is_active and not gone.has_usable_password() and gone.last_login is None
    assert not gone.always_hold and not gone.is_staff and not gone.is_superuser
    assert not gone.groups.exists() and not gone.user_permissions.exists()
    for each in (browser, other_browser, untracked_browser):
        assert not logged_in(each)
    assert not Session.objects.filter(session_key__in=[key, other_key]).exists()
    assert not UserSession.objects.filter(user=rita).exists()


def test_comments_go_and_placeholders_stay_where_others_replied(rita, author, heard, settings):
    settings.BLOG_COMMENT_RATE_LIMIT = (1, 60)  # deleting them spends nothing: a budget of one would refuse
    post = make_post(author)
    answered = make_comment(post, rita, body="Answered by others")
    make_reply(answered, author)
    alone = make_comment(post, rita, body="Nobody answered")
    comment_services.comment_edit(comment=alone, actor=rita, body="Edited once")
    own_thread = make_comment(post, rita, body="Answered by myself only")
    own_reply = make_reply(own_thread, rita)
    make_comment(post, rita, status=Comment.Status.PENDING)
    make_comment(post, rita, status=Comment.Status.HIDDEN)
    make_comment(post, rita, status=Comment.Status.REJECTED)
    make_notification(author, alone)
    browser, _ = signed_in(rita)

    with heard.committing():
        assert confirm(browser).status_code == 302

    assert not Comment.objects.filter(author=rita).exists()
    [placeholder] = Comment.objects.filter(deleted__isnull=False)
    assert (placeholder.pk, placeholder.author_id, placeholder.body) == (answered.pk, None, "")
    assert not CommentRevision.objects.exists()
    assert not Notification.objects.filter(recipient=author).exists()  # what her comment told him went too
    deleted = heard.of(events.CommentDeleted)
    # Readers hear of the published ones only: they never had the held, hidden or rejected ones.
    assert sorted((e.change.comment_id, e.placeholder) for e in deleted) == sorted(
        [(answered.pk, True), (alone.pk, False), (own_thread.pk, False), (own_reply.pk, False)]
    )
    assert not ModerationAction.objects.filter(kind=ModerationAction.Kind.DELETE).exists()


def test_posts_go_to_the_chosen_editor_drafts_included(rita, editor, heard):
    published, draft = make_post(rita), make_post(rita, published=False)
    browser, _ = signed_in(rita)

    with heard.committing():
        assert confirm(browser, posts="hand-over", posts_to="editor").status_code == 302

    assert set(Post.objects.filter(author=editor)) == {published, draft}
    # Through the receivers, so the cached post (its author's name) is dropped and sockets re-check.
    changed = {event.post_id for event in heard.of(events.PostChanged)}
    assert changed == {published.pk, draft.pk}


def test_posts_are_deleted_when_chosen_and_their_readers_told(rita, editor, heard):
    published, draft = make_post(rita), make_post(rita, published=False)
    make_comment(published, editor)
    browser, _ = signed_in(rita)

    with heard.committing():
        assert confirm(browser, posts="delete").status_code == 302

    assert not Post.objects.exists() and not Comment.objects.exists()
    gone = {event.post_id for event in heard.of(events.PostChanged) if event.deleted}
    assert gone == {published.pk, draft.pk}


def test_an_author_must_say_what_becomes_of_the_posts(rita, editor):
    make_post(rita)
    browser, _ = signed_in(rita)
    assert confirm(browser).context["form"].errors["posts"]
    assert confirm(browser, posts="hand-over").context["form"].errors["posts_to"] == [MESSAGE_CHOOSE_HEIR]
    assert fresh(rita).is_active


def test_a_non_editor_or_oneself_cannot_take_the_posts(rita, reader):
    rita.groups.add(make_user("colleague", editor=True).groups.get())
    make_post(rita)
    browser, _ = signed_in(rita)
    for heir in ("reader", "rita"):
        response = confirm(browser, posts="hand-over", posts_to=heir)
        assert response.status_code == 200 and response.context["form"].errors["posts_to"]
    for heir in (reader, rita, make_user("retired", editor=True, is_active=False)):
        with pytest.raises(ValidationError) as refused:
            data_services.account_delete(user=rita, password=PASSWORD, posts_to=heir)
        assert refused.value.message_dict == {"posts_to": [data_services.MESSAGE_NOT_AN_HEIR]}
    assert fresh(rita).is_active and Post.objects.get().author_id == rita.pk


def test_what_the_account_held_goes_and_what_others_need_stays(rita, author, moderator_user):
    post = make_post(author)
    others = make_comment(post, author)
    make_notification(rita, others)
    NotificationPreferences.objects.create(user=rita)
    Follow.objects.create(user=rita, post=post)
    make_email_delivery(rita, address="rita@example.com")
    make_email_delivery(rita, purpose="verification", address="rita@example.com", status="sent")
    sending = make_email_delivery(rita, purpose="verification", address="rita@example.com", status="sending")
    Flag.objects.create(comment=others, user=rita, reason="spam")
    held = make_comment(post, rita, body="My held words", status=Comment.Status.PENDING)
    moderation_services.comment_reject(comment_id=held.pk, actor=moderator_user, reason="off-topic")
    # Rita moderated too, once: her decision stays on the record, under her emptied account.
    rita.groups.add(moderator_user.groups.get())
    moderation_services.comment_hide(comment_id=others.pk, actor=fresh(rita), reason="checking")

    data_services.account_delete(user=rita, password=PASSWORD, posts_to=None)

    assert not Notification.objects.filter(recipient=rita).exists()
    assert not NotificationPreferences.objects.filter(user=rita).exists()
    assert not Follow.objects.filter(user=rita).exists()
    assert list(EmailDelivery.objects.filter(recipient=rita).values_list("pk", "address")) == [(sending.pk, "")]
    assert Flag.objects.filter(user=rita).exists()  # kept: moderators count it, and it names no one now
    rejected = ModerationAction.objects.get(kind=ModerationAction.Kind.REJECT)
    assert (rejected.author_id, rejected.comment_number, rejected.body, rejected.reason) == (
        rita.pk,
        held.pk,
        "",
        "off-topic",
    )
    hidden = ModerationAction.objects.get(kind=ModerationAction.Kind.HIDE)
    assert hidden.actor_id == rita.pk and fresh(rita).username == f"deleted-{rita.pk}"


@pytest.fixture
def moderator_user():
    return make_user("mod", moderator=True)


def test_the_last_active_superuser_cannot_delete_themselves():
    chief = User.objects.create_superuser("chief", password=PASSWORD)
    User.objects.create_superuser("retired-chief", password=PASSWORD, is_active=False)
    browser, _ = signed_in(chief)
    response = confirm(browser)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [data_services.MESSAGE_LAST_SUPERUSER]
    assert fresh(chief).is_active and fresh(chief).is_superuser

    User.objects.create_superuser("deputy", password=PASSWORD)
    assert confirm(browser).status_code == 302
    assert not fresh(chief).is_active and not fresh(chief).is_superuser


def test_a_deleted_account_cannot_be_deleted_again(rita):
    data_services.account_delete(user=rita, password=PASSWORD, posts_to=None)
    with pytest.raises(PermissionDenied):
        data_services.account_delete(user=rita, password=PASSWORD, posts_to=None)


def test_someone_who_took_the_neutral_name_first_does_not_stop_a_deletion(rita):
    make_user(f"deleted-{rita.pk}")
    data_services.account_delete(user=rita, password=PASSWORD, posts_to=None)
    assert fresh(rita).username.startswith(f"deleted-{rita.pk}-")


def test_the_page_says_what_goes_and_what_stays_and_offers_only_editors(rita, editor, reader):
    make_post(rita)
    browser, _ = signed_in(rita)
    page = browser.get(DELETE_URL).content.decode()
    assert "What goes" in page and "What stays" in page and "deleted-" in page
    assert '<option value="editor">editor</option>' in page
    assert 'value="reader"' not in page and 'value="rita"' not in page


def test_the_second_factors_secret_and_recovery_codes_are_erased(rita):
    enrol(rita)
    assert confirm(verified_client(rita)).status_code == 302
    assert not TOTPDevice.objects.filter(user=rita).exists()
    assert not StaticDevice.objects.filter(user=rita).exists()


def test_the_likes_given_are_taken_back_and_readers_hear_the_new_counts(rita, author, heard):
    post = make_post(author)
    liked = make_comment(post, author, body="Liked by rita and another")
    comment_likes.comment_like(comment=liked, actor=rita, liked=True)
    comment_likes.comment_like(comment=liked, actor=make_user(), liked=True)
    browser, _ = signed_in(rita)

    with heard.committing():
        assert confirm(browser).status_code == 302

    liked.refresh_from_db()
    assert liked.like_count == 1
    assert not CommentLike.objects.filter(user=rita).exists()
    [changed] = heard.of(events.CommentLikesChanged)
    assert (changed.comment_id, changed.likes) == (liked.pk, 1)
