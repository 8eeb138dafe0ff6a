"""What notifies whom: replies, mentions and new comments on followed posts, each person once, never oneself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from blog.comments import services as comment_services
from blog.models import Comment, EmailDelivery, Follow, Notification, NotificationPreferences, Post
from blog.notifications import selectors as notification_selectors
from blog.notifications import services as notification_services
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def post_comment(post: Post, author, body: str = "A comment.", parent: Comment | None = None) -> Comment:
    parent_id = parent.pk if parent is not None else None
    return comment_services.comment_post(post=post, author=author, body=body, parent_id=parent_id).comment


def kinds_for(comment: Comment) -> dict[str, str]:
    return {
        n.recipient.username: n.kind for n in Notification.objects.filter(comment=comment).select_related("recipient")
    }


def test_a_reply_tells_the_author_of_the_comment_it_answers(post, author, reader):
    writer = make_user("writer")
    first = post_comment(post, writer, "First!")
    reply = post_comment(post, reader, "Welcome.", parent=first)
    # The post's author follows their own post: a comment for them; the answered writer: a reply.
    assert kinds_for(reply) == {"writer": "reply", "author": "comment"}
    notification = Notification.objects.get(comment=reply, recipient=writer)
    assert (notification.actor, notification.post_id) == (reader, post.pk)


def test_nobody_is_told_of_their_own_comment(post, author):
    own = post_comment(post, author, "My own post, my own comment.")
    answer = post_comment(post, author, "And my own answer, @author.", parent=own)
    assert kinds_for(own) == {}
    assert kinds_for(answer) == {}


def test_a_reply_to_the_deepest_level_tells_the_author_of_the_comment_answered(post, reader):
    top_author, middle_author, deep_author = make_user("top"), make_user("middle"), make_user("deep")
    top = post_comment(post, top_author)
    middle = post_comment(post, middle_author, parent=top)
    deep = post_comment(post, deep_author, parent=middle)
    beside = post_comment(post, reader, "Answering the deepest.", parent=deep)
    assert beside.parent_id == middle.pk  # it lands beside the comment it answers...
    assert kinds_for(beside)["deep"] == "reply"  # ...and its author hears of the answer
    assert kinds_for(beside)["middle"] == "comment"  # following, having commented


def test_a_mention_tells_active_users_named_and_nobody_else(post, author, reader):
    make_user("alice")
    make_user("gone", is_active=False)
    comment = post_comment(post, reader, "@alice and @gone and @nobody, look. mail@alice.example is no mention.")
    assert kinds_for(comment) == {"alice": "mention", "author": "comment"}


def test_each_person_is_told_once_per_comment_with_the_strongest_kind(post, author, reader):
    first = post_comment(post, author, "Questions welcome.")
    # A reply to the post's author (who follows it) that also mentions them: one reply.
    reply = post_comment(post, reader, "@author here is one.", parent=first)
    assert kinds_for(reply) == {"author": "reply"}


def test_commenting_follows_the_post_and_an_unfollow_is_kept(post, author, reader):
    post_comment(post, reader, "I am in.")
    later = post_comment(post, author, "Thanks for reading.")
    assert kinds_for(later) == {"reader": "comment"}

    notification_services.post_follow(user=reader, post=post, following=False)
    post_comment(post, reader, "One more thought, without following.")
    assert not Follow.objects.get(user=reader, post=post).following
    assert kinds_for(post_comment(post, author, "Anyone?")) == {}


def test_an_author_who_unfollows_their_own_post_is_not_told(post, author, reader):
    notification_services.post_follow(user=author, post=post, following=False)
    assert kinds_for(post_comment(post, reader)) == {}


def test_a_kind_turned_off_makes_nothing_and_page_only_makes_no_email(post, author, reader):
    NotificationPreferences.objects.create(user=author, comment="off")
    assert kinds_for(post_comment(post, reader)) == {}
    NotificationPreferences.objects.filter(user=author).update(comment="page")
    comment = post_comment(post, reader, "Now you hear of it.")
    notification = Notification.objects.get(comment=comment)
    assert notification.delivery is None


def test_an_unverified_address_gets_no_email(post, author, reader):
    author.email = "author@example.com"
    author.save()
    NotificationPreferences.objects.create(user=author, comment="email")
    comment = post_comment(post, reader)
    assert Notification.objects.get(comment=comment).delivery is None


def test_an_edit_that_adds_a_mention_tells_the_newly_named_once(post, reader):
    make_user("bob")
    comment = post_comment(post, reader, "Hello.")
    comment_services.comment_edit(comment=comment, actor=reader, body="Hello @bob.")
    comment_services.comment_edit(comment=comment, actor=reader, body="Hello @bob, again.")
    assert Notification.objects.filter(comment=comment, recipient__username="bob").count() == 1


def test_a_deleted_comment_takes_its_notifications_back_and_counts_are_pushed(post, author, reader, told):
    comment = post_comment(post, reader)
    assert [(e.user_id, e.unread) for e in told] == [(author.pk, 1)]
    comment_services.comment_delete(comment=comment, actor=reader)
    assert not Notification.objects.exists()
    assert told[-1].user_id == author.pk and told[-1].unread == 0 and told[-1].notification is None


def test_a_placeholder_takes_its_notifications_back_too(post, author, reader):
    writer = make_user("writer")
    first = post_comment(post, reader, "Mentioning @writer.")
    post_comment(post, writer, "Thanks.", parent=first)
    assert comment_services.comment_delete(comment=first, actor=reader)  # a placeholder stays
    # Its notifications would still name the author the deletion erased.
    assert not Notification.objects.filter(comment=first).exists()


def test_notifications_on_a_post_no_longer_published_are_hidden(post, author, reader):
    post_comment(post, reader)
    assert notification_selectors.unread_count(author) == 1
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT)
    assert notification_selectors.unread_count(author) == 0


def test_the_new_notification_is_pushed_with_the_count_after_it(post, author, reader, told):
    other = make_post(author, title="Another")
    post_comment(post, reader, "One.")
    comment = post_comment(other, reader, "Two.")
    last = told[-1]
    assert (last.user_id, last.unread) == (author.pk, 2)
    assert last.notification["comment"] == comment.pk
    assert last.notification["kind"] == "comment"
    assert last.notification["actor"] == "reader"
    assert set(last.notification) == {"id", "kind", "post", "comment", "actor", "created", "read", "note"}


def test_marking_read_one_or_all_pushes_the_count(post, author, reader, told):
    first = post_comment(post, reader, "One.")
    post_comment(post, reader, "Two.")
    one = Notification.objects.get(comment=first)
    assert notification_services.notifications_mark_read(user=author, notification_id=one.pk) == 1
    assert (told[-1].user_id, told[-1].unread) == (author.pk, 1)
    assert notification_services.notifications_mark_read(user=author) == 0
    assert told[-1].unread == 0
    assert not Notification.objects.unread().exists()


def test_nobody_marks_someone_elses_notification(post, author, reader):
    notification = Notification.objects.get(comment=post_comment(post, reader))
    with pytest.raises(Notification.DoesNotExist):
        notification_services.notifications_mark_read(user=reader, notification_id=notification.pk)
    assert Notification.objects.get(pk=notification.pk).read is None


def test_a_draft_cannot_be_followed(draft, reader):
    with pytest.raises(notification_services.PermissionDenied):
        notification_services.post_follow(user=reader, post=draft, following=True)


def test_a_verified_address_gathers_notifications_in_one_pending_email_queued_once(post, author, reader):
    author.email = author.verified_email = "author@example.com"
    author.save()
    NotificationPreferences.objects.create(user=author, comment="email")
    first, second = post_comment(post, reader, "One."), post_comment(post, reader, "Two.")
    notifications = Notification.objects.filter(comment__in=[first, second])
    [delivery_id] = {n.delivery_id for n in notifications}
    assert delivery_id is not None
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs["args"] == [delivery_id]
    assert queued.task_path == "blog.notifications.tasks.send_email_delivery"


def test_from_comment_to_email_through_the_real_worker(post, author, reader, mailoutbox, settings):
    """The comment queues the email; `manage.py db_worker --batch` (the worker's own loop) sends it once."""
    author.email = author.verified_email = "author@example.com"
    author.save()
    NotificationPreferences.objects.create(user=author, comment="email")
    post_comment(post, reader, "Worth an email.")
    post_comment(post, reader, "And one more in the same email.")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert mailoutbox == []  # not due yet: still unread within the delay
    # The delay passes.
    later = timezone.now() - timedelta(seconds=1)
    EmailDelivery.objects.update(send_after=later)
    DBTaskResult.objects.update(run_after=later)
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    [message] = mailoutbox
    assert message.to == ["author@example.com"]
    assert "Worth an email." in message.body and "And one more in the same email." in message.body
    assert EmailDelivery.objects.get().status == "sent"


def test_a_deactivated_follower_is_not_told(post, author, reader):
    follower = make_user("leaver")
    notification_services.post_follow(user=follower, post=post, following=True)
    follower.is_active = False
    follower.save()
    assert kinds_for(post_comment(post, reader)) == {"author": "comment"}


def test_many_followers_are_each_told_once_with_their_own_count(post, author, reader, told, settings):
    settings.BLOG_COMMENT_RATE_LIMIT = None
    followers = [make_user(f"follower{n}") for n in range(30)]
    for follower in followers:
        notification_services.post_follow(user=follower, post=post, following=True)
    post_comment(post, reader, "One for everyone.")
    first = {notice.user_id: notice.unread for notice in told}
    assert first == {author.pk: 1, **{follower.pk: 1 for follower in followers}}
    told.clear()
    post_comment(post, reader, "Two for everyone.")
    assert {notice.user_id: notice.unread for notice in told} == dict.fromkeys(first, 2)
