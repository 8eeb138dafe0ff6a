from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages

from blog.models import Comment, ModerationAction, User
from blog.moderation import services as moderation_services
from tests.factories import make_comment, make_user

pytestmark = pytest.mark.django_db

AUDIT = "/admin/blog/moderationaction/"
COMMENTS = "/admin/blog/comment/"
USERS = "/admin/blog/user/"


@pytest.fixture
def superuser(db):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def moderator(db):
    """A staff member of the group migration 0011 makes (blog.moderate_comment, view and delete comments)."""
    user = make_user("mod", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


@pytest.fixture
def other_moderator(db):
    user = make_user("mod2", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


@pytest.fixture
def staff_without_moderation(db):
    """Staff who may see and delete comments in the admin, but not moderate them."""
    user = make_user("clerk", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="blog", codename__in=["view_comment", "delete_comment"])
    )
    return user


@pytest.fixture
def audit(moderator, other_moderator):
    """Two moderators' decisions about two authors, written by the service that writes the trail."""
    held_by_mod, held_by_mod2 = make_user("spammy"), make_user("noisy")
    make_user("bystander")
    moderation_services.user_hold_set(user_id=held_by_mod.pk, actor=moderator, hold=True)
    moderation_services.user_hold_set(user_id=held_by_mod2.pk, actor=other_moderator, hold=True)
    return {"mod": held_by_mod, "mod2": held_by_mod2}


def listed(response) -> list[ModerationAction]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def action_choices(response) -> set[str]:
    """The actions the changelist offers (no form at all when it offers none)."""
    assert response.status_code == 200
    form = response.context["action_form"]
    return {name for name, _label in form.fields["action"].choices} if form is not None else set()


def pending_comment(post, author) -> Comment:
    return make_comment(post, author, body="Held for a look", status=Comment.Status.PENDING)


@pytest.mark.parametrize("who", ["superuser", "moderator"])
def test_the_audit_trail_is_listed_for_moderators_and_superusers(client, request, audit, who):
    client.force_login(request.getfixturevalue(who))
    rows = listed(client.get(AUDIT))
    assert {row.author for row in rows} == {audit["mod"], audit["mod2"]}


def test_staff_without_moderation_do_not_see_the_audit_trail(client, audit, staff_without_moderation):
    client.force_login(staff_without_moderation)
    assert client.get(AUDIT).status_code == 403


def test_the_audit_trail_filters_by_actor_among_those_who_acted(client, moderator, audit):
    client.force_login(moderator)
    response = client.get(AUDIT, {"actor__id__exact": moderator.pk})
    assert [row.author for row in listed(response)] == [audit["mod"]]
    [actor_filter] = [f for f in response.context["cl"].filter_specs if f.field_path == "actor"]
    assert {label for _pk, label in actor_filter.lookup_choices} == {"mod", "mod2"}


def test_the_audit_trail_filters_by_author_among_those_acted_on(client, moderator, other_moderator, audit):
    client.force_login(moderator)
    response = client.get(AUDIT, {"author__id__exact": audit["mod2"].pk})
    assert [row.actor for row in listed(response)] == [other_moderator]
    [author_filter] = [f for f in response.context["cl"].filter_specs if f.field_path == "author"]
    assert {label for _pk, label in author_filter.lookup_choices} == {"spammy", "noisy"}


def test_audit_rows_cannot_be_added_even_by_a_superuser(client, superuser):
    client.force_login(superuser)
    assert client.get(f"{AUDIT}add/").status_code == 403
    assert client.post(f"{AUDIT}add/", {"kind": "ban", "reason": "made up"}).status_code == 403
    assert not ModerationAction.objects.exists()


def test_audit_rows_cannot_be_changed_even_by_a_superuser(client, superuser, audit):
    row = ModerationAction.objects.get(author=audit["mod"])
    client.force_login(superuser)
    response = client.post(f"{AUDIT}{row.pk}/change/", {"kind": "ban", "reason": "rewritten"})
    assert response.status_code == 403
    row.refresh_from_db()
    assert (row.kind, row.reason) == (ModerationAction.Kind.ALWAYS_HOLD, "")


def test_audit_rows_cannot_be_deleted_even_by_a_superuser(client, superuser, audit):
    row = ModerationAction.objects.get(author=audit["mod"])
    client.force_login(superuser)
    assert client.post(f"{AUDIT}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in action_choices(client.get(AUDIT))
    client.post(AUDIT, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert ModerationAction.objects.count() == 2


def test_a_moderator_sees_flags_but_cannot_add_them(client, moderator):
    client.force_login(moderator)
    assert client.get("/admin/blog/flag/").status_code == 200
    assert client.get("/admin/blog/flag/add/").status_code == 403


def test_approving_from_the_admin_publishes_a_held_comment_on_the_record(client, moderator, post, reader):
    comment = pending_comment(post, reader)
    client.force_login(moderator)
    response = client.post(COMMENTS, {"action": "approve", "_selected_action": [comment.pk]})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    record = ModerationAction.objects.get(comment_number=comment.pk)
    assert (record.kind, record.actor, record.author) == (ModerationAction.Kind.APPROVE, moderator, reader)


def test_a_refused_decision_is_reported_and_changes_nothing(client, moderator, post, reader):
    """Approving a comment nobody flagged or held: the service says no, the admin says why."""
    comment = make_comment(post, reader)
    client.force_login(moderator)
    response = client.post(COMMENTS, {"action": "approve", "_selected_action": [comment.pk]}, follow=True)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Refused for comment {comment.pk}: {moderation_services.MESSAGE_NOTHING_TO_APPROVE}"
    ]
    assert not ModerationAction.objects.exists()


def test_comment_status_and_reason_are_shown(client, moderator, post, reader):
    comment = make_comment(post, reader, status=Comment.Status.PENDING, held_reason="5 links (more than 3)")
    client.force_login(moderator)
    page = client.get(f"{COMMENTS}{comment.pk}/change/").content.decode()
    assert "Awaiting approval" in page and "5 links (more than 3)" in page
    assert [c.pk for c in listed(client.get(COMMENTS, {"status__exact": "pending"}))] == [comment.pk]


def test_staff_without_moderation_get_no_moderation_actions(client, staff_without_moderation, post, reader):
    comment = pending_comment(post, reader)
    client.force_login(staff_without_moderation)
    choices = action_choices(client.get(COMMENTS))
    assert "delete_selected" in choices
    assert not choices & {"approve", "reject", "hide"}
    for action in ["approve", "reject", "hide"]:
        client.post(COMMENTS, {"action": action, "_selected_action": [comment.pk]})
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    assert not ModerationAction.objects.exists()


def test_always_hold_is_not_editable_in_the_user_form(client, superuser, reader):
    """The form saves, and the flag it was sent stays as it was: only the audited action sets it."""
    client.force_login(superuser)
    page = client.get(f"{USERS}{reader.pk}/change/")
    assert "always_hold" not in page.context["adminform"].form.fields
    data = {"username": reader.username, "first_name": "Rea", "is_active": "on", "always_hold": "on"}
    data |= {"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    assert client.post(f"{USERS}{reader.pk}/change/", data).status_code == 302
    reader.refresh_from_db()
    assert reader.first_name == "Rea" and not reader.always_hold


def test_holding_a_user_from_the_admin_is_on_the_record(client, moderator, superuser, reader):
    client.force_login(superuser)
    client.post(USERS, {"action": "hold_comments", "_selected_action": [reader.pk]})
    reader.refresh_from_db()
    assert reader.always_hold
    assert ModerationAction.objects.filter(kind=ModerationAction.Kind.ALWAYS_HOLD, author=reader).exists()


def test_banning_a_user_from_the_admin_deactivates_them_on_the_record(client, superuser, reader):
    client.force_login(superuser)
    client.post(USERS, {"action": "ban", "_selected_action": [reader.pk]})
    reader.refresh_from_db()
    assert not reader.is_active
    ban = ModerationAction.objects.get(kind=ModerationAction.Kind.BAN)
    assert (ban.author, ban.actor, ban.reason) == (reader, superuser, "banned from the admin")


def test_user_moderation_actions_are_for_moderators_only(client, reader):
    """An administrator of accounts without blog.moderate_comment sees no hold or ban actions."""
    manager = make_user("accounts", is_staff=True)
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(manager)
    assert not action_choices(client.get(USERS)) & {"hold_comments", "stop_holding_comments", "ban"}
    client.post(USERS, {"action": "ban", "_selected_action": [reader.pk]})
    reader.refresh_from_db()
    assert reader.is_active and not User.objects.filter(pk=reader.pk, always_hold=True).exists()
