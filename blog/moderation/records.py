"""The audit trail, and what the moderation queue hears: written inside the transaction of the change they record.

The comment service (blog/comments/services.py) records the comments it holds and
others' comments it deletes here; blog/moderation/services.py records the rest.
"""

from __future__ import annotations

from blog import events
from blog.accounts.models import User
from blog.comments.models import Comment
from blog.moderation import selectors
from blog.moderation.models import Flag, ModerationAction


def action_record(
    kind: str, *, actor: User | None, comment: Comment | None = None, author: User | None = None, reason: str = ""
) -> ModerationAction:
    """One row of the audit trail: who (None: the blog itself), what, to whose comment or account, and why."""
    return ModerationAction.objects.create(
        kind=kind,
        actor=actor,
        author_id=comment.author_id if comment is not None else author.pk if author is not None else None,
        comment=comment,
        comment_number=comment.pk if comment is not None else None,
        body=comment.body if comment is not None else "",
        post_id=comment.post_id if comment is not None else None,
        reason=reason,
    )


def has_open_flags(comment: Comment) -> bool:
    return Flag.objects.filter(comment=comment, cleared__isnull=True).exists()


def in_queue(comment: Comment) -> bool:
    """Whether the comment waits for a moderator: held, hidden, or published with flags no one answered."""
    if comment.status in (Comment.Status.PENDING, Comment.Status.HIDDEN):
        return True
    return comment.is_public and has_open_flags(comment)


def comment_held(comment: Comment) -> None:
    """A new comment was saved pending: on the record, and in every moderator's queue once committed."""
    action_record(ModerationAction.Kind.HOLD, actor=None, comment=comment, reason=comment.held_reason)
    queue_announce(comment)


def queue_announce(comment: Comment, *, action: str | None = None, actor: User | None = None) -> None:
    """Tell the moderators' queues how the comment stands now: its entry, or that it left the queue and why."""
    item = selectors.queue_item(comment.pk)
    by = actor.get_username() if actor is not None else None
    changed = events.ModerationChanged(
        comment.pk, item, action=None if item is not None else action, actor=by, post_id=comment.post_id
    )
    events.publish_on_commit(changed)


def author_queue_announce(author_id: int) -> None:
    """The author's entries in the queue, as they stand now (their account or "always hold" changed)."""
    for comment in selectors.queue_comments().filter(author_id=author_id):
        queue_announce(comment)


def author_words_erase(author_id: int) -> int:
    """The author's account is deleted: the trail keeps every decision about their comments and account
    (who, what, when, why), not the words the comments said. Returns how many rows carried some."""
    return ModerationAction.objects.filter(author_id=author_id).exclude(body="").update(body="")
