from __future__ import annotations

from functools import partial

import pytest

from blog import events
from blog.comments import services as comment_services
from blog.models import Comment, Notification, Post
from tests.factories import make_comment, make_reply, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_editor(db):
    return make_user("chief", editor=True, is_staff=True)


@pytest.fixture
def staff_writer(db):
    user = make_user("intern", is_staff=True)
    user.user_permissions.add(*_permissions("add_post", "change_post", "view_post"))
    return user


def record_deleted(deleted: list[int], event: events.Event) -> None:
    if isinstance(event, events.CommentDeleted):
        deleted.append(event.change.comment_id)


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="blog", codename__in=codenames)


def test_admin_comment_delete_goes_through_the_service(
    client, staff_editor, post, reader, monkeypatch, django_capture_on_commit_callbacks
):
    deleted = []
    monkeypatch.setattr(events, "_handlers", [partial(record_deleted, deleted)])
    comment = make_comment(post, reader)
    client.force_login(staff_editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/blog/comment/{comment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Comment.objects.exists()
    assert deleted == [comment.pk]


def test_admin_bulk_comment_delete_tells_readers_of_each(
    client, staff_editor, post, reader, monkeypatch, django_capture_on_commit_callbacks
):
    deleted = []
    monkeypatch.setattr(events, "_handlers", [partial(record_deleted, deleted)])
    comments = [make_comment(post, reader) for _ in range(2)]
    client.force_login(staff_editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/blog/comment/",
            {"action": "delete_selected", "_selected_action": [c.pk for c in comments], "post": "yes"},
        )
    assert sorted(deleted) == sorted(c.pk for c in comments)


def test_admin_deleting_a_comment_with_replies_leaves_a_placeholder(
    client, staff_editor, post, reader, django_capture_on_commit_callbacks
):
    top = make_comment(post, reader, body="Asked")
    answer = make_reply(top, staff_editor)
    client.force_login(staff_editor)
    confirm = client.get(f"/admin/blog/comment/{top.pk}/delete/")
    assert confirm.status_code == 200 and "protected" not in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/blog/comment/{top.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    top.refresh_from_db()
    assert top.is_placeholder and top.body == "" and Comment.objects.filter(pk=answer.pk).exists()


def test_admin_bulk_delete_of_a_thread_removes_it_whole(
    client, staff_editor, post, reader, django_capture_on_commit_callbacks
):
    top = make_comment(post, reader)
    answer = make_reply(top, reader)
    client.force_login(staff_editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/blog/comment/",
            {"action": "delete_selected", "_selected_action": [top.pk, answer.pk], "post": "yes"},
        )
    assert not Comment.objects.exists()


def test_comments_cannot_be_added_or_edited_in_the_admin(client, staff_editor, post, reader):
    comment = make_comment(post, reader, body="original")
    client.force_login(staff_editor)
    assert client.get("/admin/blog/comment/add/").status_code == 403
    client.post(f"/admin/blog/comment/{comment.pk}/change/", {"body": "rewritten"})
    comment.refresh_from_db()
    assert comment.body == "original"


def test_editor_publishes_drafts_with_the_admin_action(client, staff_editor, draft):
    client.force_login(staff_editor)
    client.post("/admin/blog/post/", {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Post.Status.PUBLISHED and draft.published_at is not None


def test_staff_without_publish_permission_cannot_publish_from_the_admin(client, staff_writer, draft):
    client.force_login(staff_writer)
    client.post("/admin/blog/post/", {"action": "publish", "_selected_action": [draft.pk]})
    page = client.get(f"/admin/blog/post/{draft.pk}/change/").content.decode()
    draft.refresh_from_db()
    assert draft.status == Post.Status.DRAFT
    assert 'name="status"' not in page


def test_editors_see_earlier_versions_in_the_admin(client, staff_editor, post, reader):
    comment = make_comment(post, reader, body="First draft of a comment")
    comment_services.comment_edit(comment=comment, actor=reader, body="Second thoughts")
    client.force_login(staff_editor)
    page = client.get(f"/admin/blog/comment/{comment.pk}/change/").content.decode()
    assert "First draft of a comment" in page
    assert "Second thoughts" in page


def test_notifications_follows_and_emails_are_listed_and_never_changed_in_the_admin(client, post, reader):
    """The services write them (a change here would skip the live count and the email's rules)."""
    superuser = make_user("root", is_staff=True, is_superuser=True)
    comment_services.comment_post(post=post, author=reader, body="Tell the author.")
    notification = Notification.objects.get()
    client.force_login(superuser)
    listing = client.get("/admin/blog/notification/")
    assert listing.status_code == 200
    assert "reader" in listing.content.decode()
    assert client.get("/admin/blog/follow/").status_code == 200
    assert client.get("/admin/blog/emaildelivery/").status_code == 200
    for model in ("notification", "follow", "emaildelivery"):
        assert client.get(f"/admin/blog/{model}/add/").status_code == 403
    response = client.post(f"/admin/blog/notification/{notification.pk}/change/", {"kind": "reply"})
    assert response.status_code == 403
    assert client.post(f"/admin/blog/notification/{notification.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Notification.objects.get().kind == "comment"
