"""What a notifications email says: who, what, which post, an excerpt, absolute links, and the unsubscribe headers."""

from __future__ import annotations

import pytest

from blog.notifications.emails import EXCERPT_MAX_CHARACTERS
from blog.notifications.tasks import send_email_delivery
from tests.factories import make_comment, make_email_delivery, make_notification, make_user, make_verified_user

pytestmark = pytest.mark.django_db

SITE = "https://blog.example.org"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.BLOG_SITE_URL = SITE


@pytest.fixture
def recipient():
    return make_verified_user("rita", "rita@example.com")


@pytest.fixture
def sent_email(mailoutbox):
    """Send the recipient one email telling of (comment, kind) pairs, and return it."""

    def send(recipient, *comments_and_kinds):
        delivery = make_email_delivery(recipient)
        for comment, kind in comments_and_kinds:
            make_notification(recipient, comment, kind=kind, delivery=delivery)
        send_email_delivery.call(delivery.pk)
        return mailoutbox[-1]

    return send


def test_an_email_about_one_reply_names_who_replied_where_and_links_to_the_comment(recipient, post, author, sent_email):
    comment = make_comment(post, author, "Thanks for asking,\n\nhere is   the answer.")
    message = sent_email(recipient, (comment, "reply"))
    assert message.subject == "author replied to your comment on “A published post”"
    assert message.to == ["rita@example.com"]
    assert "author replied to your comment on “A published post”" in message.body
    # The excerpt on one line, the link absolute: a mail client has no page to resolve it against.
    assert '"Thanks for asking, here is the answer."' in message.body
    # The page that shows it however many comments came after (Comment.permalink).
    assert f"{SITE}/blog/posts/{post.pk}/?before={comment.pk + 1}#comment-{comment.pk}" in message.body
    assert f"{SITE}/notifications/preferences/" in message.body


def test_each_kind_says_what_happened(recipient, post, author, sent_email):
    message = sent_email(
        recipient, (make_comment(post, author, "@rita look"), "mention"), (make_comment(post, author, "Hi"), "reply")
    )
    assert "author mentioned you on “A published post”" in message.body
    assert "author replied to your comment on “A published post”" in message.body
    assert message.subject == "2 new notifications on asgi_blog"


def test_a_long_comment_is_cut_to_an_excerpt(recipient, post, author, sent_email):
    message = sent_email(recipient, (make_comment(post, author, "word " * 200), "reply"))
    [line] = [line for line in message.body.splitlines() if line.strip().startswith('"word')]
    assert len(line.strip()) <= EXCERPT_MAX_CHARACTERS + 2  # the quotes
    assert line.strip().endswith('…"')


def test_every_notifications_email_offers_a_one_click_unsubscribe(recipient, post, author, sent_email):
    message = sent_email(recipient, (make_comment(post, author), "reply"))
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith(f"<{SITE}/notifications/unsubscribe/") and header.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The same link in the text, for clients that show no button.
    assert header[1:-1] in message.body
    # The headers survive into the message as sent.
    sent = message.message()
    assert sent["List-Unsubscribe"] == header
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_unsubscribe_links_differ_per_person(recipient, post, sent_email):
    comment = make_comment(post, make_user("writer"))
    other = make_verified_user("otto", "otto@example.com")
    links = {sent_email(person, (comment, "reply")).extra_headers["List-Unsubscribe"] for person in (recipient, other)}
    assert len(links) == 2
