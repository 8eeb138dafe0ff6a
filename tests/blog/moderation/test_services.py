"""Moderation's rules, in the services every transport calls: who is held, who decides, who is told."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from blog import events
from blog.comments import services as comment_services
from blog.models import Comment, CommentChange, Flag, ModerationAction, Notification, User
from blog.moderation import policy
from blog.moderation import services as moderation
from blog.rate_limit import RateLimited
from tests.factories import make_comment, make_reply, make_user, migration_group

pytestmark = pytest.mark.django_db

Kind = ModerationAction.Kind


def post_comment(post, author, body="A fair point.", **fields):
    return comment_services.comment_post(post=post, author=author, body=body, **fields).comment


def test_with_moderation_off_every_comment_is_published(post, reader):
    assert post_comment(post, reader).status == Comment.Status.PUBLISHED


def test_with_moderation_all_everyone_outside_trusted_and_moderators_is_held(settings, post, reader, moderator):
    settings.BLOG_COMMENT_MODERATION = "all"
    trusted = make_user("trusted")
    trusted.groups.add(migration_group("Trusted"))
    editor = make_user("ed", editor=True)

    held = post_comment(post, reader)
    assert (held.status, held.held_reason) == (Comment.Status.PENDING, policy.REASON_ALL)
    for author in (trusted, moderator, editor):
        assert post_comment(post, author, body=f"From {author}").status == Comment.Status.PUBLISHED


def test_with_moderation_first_an_author_is_held_until_one_comment_is_approved(settings, post, reader, moderator):
    settings.BLOG_COMMENT_MODERATION = "first"
    first = post_comment(post, reader, body="Hello, first time here.")
    second = post_comment(post, reader, body="Still waiting?")
    assert [first.status, second.status] == [Comment.Status.PENDING] * 2
    assert first.held_reason == policy.REASON_FIRST

    moderation.comment_approve(comment_id=first.pk, actor=moderator)

    assert post_comment(post, reader, body="Now I am known.").status == Comment.Status.PUBLISHED


def test_a_user_marked_always_hold_is_held_even_when_trusted(post, reader, moderator):
    reader.groups.add(migration_group("Trusted"))
    moderation.user_hold_set(user_id=reader.pk, actor=moderator, hold=True)
    reader.refresh_from_db()

    held = post_comment(post, reader)

    assert (held.status, held.held_reason) == (Comment.Status.PENDING, policy.REASON_ALWAYS_HOLD)
    assert ModerationAction.objects.filter(kind=Kind.ALWAYS_HOLD, author=reader, actor=moderator).exists()


def test_a_spam_signal_holds_the_comment_and_says_why(post, reader):
    links = " ".join(f"https://spam.example/{n}" for n in range(5))
    held = post_comment(post, reader, body=f"Buy now {links}")
    assert held.status == Comment.Status.PENDING
    assert "links" in held.held_reason


def test_a_held_comment_is_announced_to_the_moderators_only_and_tells_nobody(post, author, reader, heard, settings):
    settings.BLOG_COMMENT_MODERATION = "all"
    with heard.committing():
        held = post_comment(post, reader, body="Hello @" + author.username)

    assert heard.of(events.CommentCreated) == [] and heard.of(events.NotificationsChanged) == []
    [queued] = heard.of(events.ModerationChanged)
    assert (queued.comment_id, queued.item["status"], queued.item["held_reason"]) == (
        held.pk,
        "pending",
        policy.REASON_ALL,
    )
    assert not Notification.objects.exists()
    assert ModerationAction.objects.get(kind=Kind.HOLD).comment == held


def test_approving_publishes_the_comment_as_if_just_posted(post, author, reader, moderator, heard, settings):
    top = make_comment(post, author, body="The original")
    settings.BLOG_COMMENT_MODERATION = "all"
    held = post_comment(post, reader, body="An answer", parent_id=top.pk)

    with heard.committing():
        moderation.comment_approve(comment_id=held.pk, actor=moderator)

    held.refresh_from_db()
    assert held.status == Comment.Status.PUBLISHED
    change = CommentChange.objects.get(comment_id=held.pk)
    assert change.kind == CommentChange.Kind.PUBLISHED
    [published] = heard.of(events.CommentPublished)
    assert (published.comment.pk, published.change) == (held.pk, change)
    # Notifications as for a new comment: the author answered hears of the reply.
    assert Notification.objects.get(recipient=author).kind == "reply"
    assert heard.of(events.ModerationChanged)[-1].action == Kind.APPROVE
    assert ModerationAction.objects.filter(kind=Kind.APPROVE, actor=moderator, comment=held).exists()


def test_only_moderators_decide(post, author, reader, settings):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = post_comment(post, reader)
    deleter = make_user("deleter")  # may delete comments, not moderate them
    deleter.user_permissions.add(*Permission.objects.filter(codename="delete_comment"))
    for actor in (author, User.objects.get(pk=deleter.pk)):
        for decide in (moderation.comment_approve, moderation.comment_reject, moderation.comment_hide):
            with pytest.raises(PermissionDenied):
                decide(comment_id=held.pk, actor=actor)
        with pytest.raises(PermissionDenied):
            moderation.user_ban(user_id=reader.pk, actor=actor)
    held.refresh_from_db()
    assert held.status == Comment.Status.PENDING and not ModerationAction.objects.exclude(kind=Kind.HOLD).exists()


def test_rejecting_tells_the_author_alone_with_the_reason(post, author, reader, moderator, heard, settings):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = post_comment(post, reader, body="Hello @" + author.username)

    with heard.committing():
        moderation.comment_reject(comment_id=held.pk, actor=moderator, reason="Off topic, sorry.")

    held.refresh_from_db()
    assert held.status == Comment.Status.REJECTED
    [told] = Notification.objects.all()
    assert (told.recipient, told.kind, told.note, told.actor) == (reader, "rejected", "Off topic, sorry.", moderator)
    [notice] = heard.of(events.NotificationsChanged)[0].notices
    assert (notice.user_id, notice.notification["note"]) == (reader.pk, "Off topic, sorry.")
    assert heard.of(events.CommentCreated) == heard.of(events.CommentPublished) == []
    assert not CommentChange.objects.exists()  # readers never knew of it
    action = ModerationAction.objects.get(kind=Kind.REJECT)
    assert (action.actor, action.author, action.reason) == (moderator, reader, "Off topic, sorry.")


def test_a_decided_comment_cannot_be_decided_again(post, reader, moderator, settings):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = post_comment(post, reader)
    moderation.comment_reject(comment_id=held.pk, actor=moderator)
    with pytest.raises(PermissionDenied, match="not waiting"):
        moderation.comment_approve(comment_id=held.pk, actor=moderator)
    published = make_comment(post, reader, body="Fine")
    with pytest.raises(PermissionDenied, match="not waiting"):
        moderation.comment_reject(comment_id=published.pk, actor=moderator)


def test_flags_hide_a_comment_at_the_threshold_of_distinct_readers(post, author, moderator, heard, settings):
    settings.BLOG_FLAG_THRESHOLD = 2
    comment = make_comment(post, author, body="Something rude")
    make_user("told")
    Notification.objects.create(
        recipient=User.objects.get(username="told"), kind="comment", post=post, comment=comment, actor=author
    )
    first, second = make_user("f1"), make_user("f2")

    with heard.committing():
        assert moderation.comment_flag(comment_id=comment.pk, user=first, reason="abuse") is False
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert heard.of(events.ModerationChanged)[-1].item["flag_count"] == 1

    with heard.committing():
        assert moderation.comment_flag(comment_id=comment.pk, user=second, reason="spam") is True

    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    [hidden] = heard.of(events.CommentHidden)
    assert (hidden.change.kind, hidden.change.comment_id) == (CommentChange.Kind.HIDDEN, comment.pk)
    # What it told anyone is taken back: a notification would lead to what readers may not see.
    assert not Notification.objects.filter(comment=comment).exists()
    action = ModerationAction.objects.get(kind=Kind.HIDE)
    assert (action.actor, action.reason) == (None, "2 readers flagged it")
    assert heard.of(events.ModerationChanged)[-1].item["status"] == "hidden"


def test_a_flag_is_refused_on_ones_own_comment_twice_or_with_a_bad_reason(post, author, reader):
    comment = make_comment(post, author)
    with pytest.raises(PermissionDenied, match="your own"):
        moderation.comment_flag(comment_id=comment.pk, user=author, reason="spam")
    moderation.comment_flag(comment_id=comment.pk, user=reader, reason="spam")
    with pytest.raises(PermissionDenied, match="already flagged"):
        moderation.comment_flag(comment_id=comment.pk, user=reader, reason="abuse")
    with pytest.raises(ValidationError):
        moderation.comment_flag(comment_id=comment.pk, user=make_user(), reason="boring")
    assert Flag.objects.count() == 1


def test_flags_spend_the_write_budget(post, author, reader, settings):
    settings.BLOG_COMMENT_RATE_LIMIT = (2, 60)
    comments = [make_comment(post, author, body=str(n)) for n in range(3)]
    for comment in comments[:2]:
        moderation.comment_flag(comment_id=comment.pk, user=reader, reason="spam")
    with pytest.raises(RateLimited):
        moderation.comment_flag(comment_id=comments[2].pk, user=reader, reason="spam")
    assert Flag.objects.count() == 2


def test_a_held_comment_cannot_be_flagged(post, reader, settings):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = post_comment(post, make_user())
    with pytest.raises(PermissionDenied, match="no such comment"):
        moderation.comment_flag(comment_id=held.pk, user=reader, reason="spam")


def test_restoring_a_hidden_comment_publishes_it_again_and_clears_its_flags(post, author, moderator, heard, settings):
    settings.BLOG_FLAG_THRESHOLD = 1
    comment = make_comment(post, author)
    moderation.comment_flag(comment_id=comment.pk, user=make_user(), reason="off-topic")

    with heard.committing():
        moderation.comment_approve(comment_id=comment.pk, actor=moderator)

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert not Flag.objects.filter(cleared__isnull=True).exists()
    assert [event.change.kind for event in heard.of(events.CommentPublished)] == [CommentChange.Kind.PUBLISHED]
    assert ModerationAction.objects.filter(kind=Kind.RESTORE, actor=moderator).exists()
    # A cleared flag no longer counts: one new flag at threshold 1 hides it again, the old one does not add up.
    moderation.comment_flag(comment_id=comment.pk, user=make_user(), reason="spam")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN


def test_dismissing_the_flags_of_a_published_comment_keeps_it(post, author, moderator, heard):
    comment = make_comment(post, author)
    moderation.comment_flag(comment_id=comment.pk, user=make_user(), reason="spam")
    with heard.committing():
        moderation.comment_approve(comment_id=comment.pk, actor=moderator)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert heard.of(events.CommentPublished) == []  # readers still have it
    assert heard.of(events.ModerationChanged)[-1].item is None


def test_removing_a_hidden_comment_deletes_it_and_a_placeholder_keeps_its_replies(post, author, reader, moderator):
    lone, answered = make_comment(post, author, body="Alone"), make_comment(post, author, body="Answered")
    make_reply(answered, reader)
    for comment in (lone, answered):
        moderation.comment_hide(comment_id=comment.pk, actor=moderator)
        moderation.comment_reject(comment_id=comment.pk, actor=moderator, reason="Abuse")

    assert not Comment.objects.filter(pk=lone.pk).exists()
    placeholder = Comment.objects.get(pk=answered.pk)
    assert placeholder.is_placeholder and placeholder.status == Comment.Status.PUBLISHED
    removed = ModerationAction.objects.filter(kind=Kind.REMOVE).order_by("id")
    assert [(action.comment_number, action.body, action.reason) for action in removed] == [
        (lone.pk, "Alone", "Abuse"),
        (answered.pk, "Answered", "Abuse"),
    ]


def test_a_ban_deactivates_the_account_ends_its_sessions_and_rejects_its_held_comments(
    post, reader, moderator, heard, settings
):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = [post_comment(post, reader, body=f"Held {n}") for n in range(2)]

    with heard.committing():
        moderation.user_ban(user_id=reader.pk, actor=moderator, reason="Spammer")

    reader.refresh_from_db()
    assert not reader.is_active
    assert events.UserSessionsChanged(user_id=reader.pk, reason="deactivated") in heard
    assert {comment.status for comment in Comment.objects.filter(pk__in=[c.pk for c in held])} == {"rejected"}
    assert ModerationAction.objects.get(kind=Kind.BAN).reason == "Spammer"
    assert ModerationAction.objects.filter(kind=Kind.REJECT, author=reader).count() == 2
    assert not Notification.objects.exists()  # nobody to tell: the account is gone


def test_moderators_staff_and_oneself_cannot_be_banned_here(reader, moderator):
    other_moderator, staff = make_user(moderator=True), make_user(is_staff=True)
    for target in (moderator, other_moderator, staff):
        with pytest.raises(PermissionDenied):
            moderation.user_ban(user_id=target.pk, actor=moderator)
    assert User.objects.filter(is_active=False).count() == 0


def test_deleting_another_users_comment_is_on_the_record_and_ones_own_is_not(post, author, reader, editor):
    own, others = make_comment(post, reader, body="Mine"), make_comment(post, reader, body="Theirs")
    comment_services.comment_delete(comment=own, actor=reader)
    comment_services.comment_delete(comment=others, actor=editor)
    [action] = ModerationAction.objects.all()
    assert (action.kind, action.actor, action.author, action.body) == (Kind.DELETE, editor, reader, "Theirs")


def test_a_held_comment_cannot_be_edited_or_answered(post, author, reader, settings):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = post_comment(post, reader, body="Before")
    with pytest.raises(PermissionDenied):
        comment_services.comment_edit(comment=held, actor=reader, body="After")
    with pytest.raises(ValidationError):
        comment_services.comment_post(post=post, author=author, body="Answer", parent_id=held.pk)
    held.refresh_from_db()
    assert held.body == "Before"


def test_an_author_withdrawing_a_held_comment_leaves_readers_nothing_to_hear(post, reader, heard, settings):
    settings.BLOG_COMMENT_MODERATION = "all"
    held = post_comment(post, reader)
    with heard.committing():
        comment_services.comment_delete(comment=held, actor=reader)
    assert not Comment.objects.exists() and not CommentChange.objects.exists()
    assert heard.of(events.CommentDeleted) == []
    [left] = heard.of(events.ModerationChanged)
    assert (left.item, left.action) == (None, "delete")


@override_settings(BLOG_COMMENT_MODERATION="all")
def test_the_queue_lists_held_hidden_and_flagged_comments_oldest_first_with_the_authors_history(
    post, author, reader, moderator
):
    from blog.moderation import selectors

    held = post_comment(post, reader, body="Held")
    flagged = make_comment(post, author, body="Flagged")
    moderation.comment_flag(comment_id=flagged.pk, user=reader, reason="off-topic")
    make_comment(post, author, body="Nobody minds")
    rejected = post_comment(post, reader, body="Rejected")
    moderation.comment_reject(comment_id=rejected.pk, actor=moderator)

    items = selectors.queue_items()

    assert [item["id"] for item in items] == [held.pk, flagged.pk]
    assert items[0]["author"]["history"] == {"approved": 0, "rejected": 1, "removed": 0, "flags": 0}
    assert items[1]["author"]["history"] == {"approved": 2, "rejected": 0, "removed": 0, "flags": 1}
    assert (items[1]["flags"], items[1]["flag_count"], items[1]["status"]) == ({"off-topic": 1}, 1, "published")


def test_an_edit_of_a_flagged_comment_reaches_the_queue_as_it_reads_now(post, author, reader, heard):
    comment = make_comment(post, author, body="Before")
    moderation.comment_flag(comment_id=comment.pk, user=reader, reason="spam")
    with heard.committing():
        comment_services.comment_edit(comment=comment, actor=author, body="After")
    assert heard.of(events.ModerationChanged)[-1].item["body"] == "After"


def test_the_queue_hears_when_an_authors_account_or_holding_changes(post, author, reader, moderator, heard):
    flagged = make_comment(post, reader, body="Flagged")
    moderation.comment_flag(comment_id=flagged.pk, user=author, reason="spam")
    with heard.committing():
        moderation.user_hold_set(user_id=reader.pk, actor=moderator, hold=True)
    assert heard.of(events.ModerationChanged)[-1].item["author"]["always_hold"] is True
    with heard.committing():
        moderation.user_ban(user_id=reader.pk, actor=moderator)
    assert heard.of(events.ModerationChanged)[-1].item["author"]["active"] is False


def test_removing_a_hidden_comment_tells_readers_nothing_they_would_count_twice(post, author, reader, moderator, heard):
    """Readers lost it when it was hidden (live, or on resume): a deletion now would count it down again."""
    lone, answered = make_comment(post, author, body="Alone"), make_comment(post, author, body="Answered")
    make_reply(answered, reader)
    for comment in (lone, answered):
        moderation.comment_hide(comment_id=comment.pk, actor=moderator)
    with heard.committing():
        for comment in (lone, answered):
            moderation.comment_reject(comment_id=comment.pk, actor=moderator)
    assert heard.of(events.CommentDeleted) == []
    assert not CommentChange.objects.filter(kind=CommentChange.Kind.DELETED).exists()
