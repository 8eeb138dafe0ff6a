from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from blog.models import Comment, Post, User
from blog.moderation.checks import listed_words, repeated_body, suspicion, too_many_links
from tests.factories import make_comment, make_post, make_user

pytestmark = pytest.mark.django_db

CHECKS = "tests.blog.moderation.test_checks"
REPEATED = "Great article, visit my profile for more like this"


def unsaved(post: Post, author: User, body: str) -> Comment:
    """A comment as the checks see it: not saved yet."""
    return Comment(post=post, author=author, body=body)


def always_suspicious(comment: Comment) -> str | None:
    return "suspicious by design"


def never_suspicious(comment: Comment) -> str | None:
    return None


def mentions_lunch(comment: Comment) -> str | None:
    return "talks about lunch" if "lunch" in comment.body else None


not_a_function = "a string, not a check"


@pytest.fixture
def other_post(author):
    return make_post(author, title="Another post")


def test_more_links_than_the_limit_is_a_signal(post, reader, settings):
    settings.BLOG_SPAM_MAX_LINKS = 3
    body = "Try http://a.example, www.b.example, [this](https://c.example) and <https://d.example>."
    assert too_many_links(unsaved(post, reader, body)) == "4 links (more than 3)"


def test_exactly_the_limit_of_links_is_fine(post, reader, settings):
    settings.BLOG_SPAM_MAX_LINKS = 3
    body = "See http://a.example, www.b.example and [the docs](https://c.example)."
    assert too_many_links(unsaved(post, reader, body)) is None


def test_the_same_address_twice_counts_twice(post, reader, settings):
    settings.BLOG_SPAM_MAX_LINKS = 1
    assert too_many_links(unsaved(post, reader, "http://a.example http://a.example")) == "2 links (more than 1)"


def test_a_link_written_as_its_own_address_counts_once(post, reader, settings):
    settings.BLOG_SPAM_MAX_LINKS = 1
    assert too_many_links(unsaved(post, reader, "[https://a.example](https://a.example)")) is None


def test_links_readers_cannot_follow_and_mentions_are_not_counted(post, reader, settings):
    """The renderer drops a javascript: link and a relative one; a mention is not a link out."""
    settings.BLOG_SPAM_MAX_LINKS = 0
    body = "[x](javascript:alert(1)) [y](/elsewhere) @author and a.b.www.example"
    assert too_many_links(unsaved(post, reader, body)) is None


def test_the_same_text_on_another_post_is_a_signal(post, other_post, reader):
    make_comment(other_post, reader, body=REPEATED)
    again = unsaved(post, reader, "  great ARTICLE,\n visit my profile   for more like this")
    assert repeated_body(again) == "the same text was posted on another post"


def test_the_same_text_counts_whatever_became_of_the_first(post, other_post, reader):
    make_comment(other_post, reader, body=REPEATED, status=Comment.Status.REJECTED)
    assert repeated_body(unsaved(post, reader, REPEATED)) is not None


def test_a_short_text_repeated_is_not_a_signal(post, other_post, reader):
    make_comment(other_post, reader, body="Thanks, great post!")
    assert repeated_body(unsaved(post, reader, "Thanks, great post!")) is None


def test_the_same_text_on_the_same_post_is_not_this_signal(post, reader):
    make_comment(post, reader, body=REPEATED)
    assert repeated_body(unsaved(post, reader, REPEATED)) is None


def test_another_authors_identical_text_does_not_count(post, other_post, reader):
    make_comment(other_post, make_user("someone"), body=REPEATED)
    assert repeated_body(unsaved(post, reader, REPEATED)) is None


def test_the_same_text_more_than_a_day_ago_does_not_count(post, other_post, reader):
    earlier = make_comment(other_post, reader, body=REPEATED)
    Comment.objects.filter(pk=earlier.pk).update(created=timezone.now() - timedelta(hours=25))
    assert repeated_body(unsaved(post, reader, REPEATED)) is None


def test_a_listed_word_is_a_signal_whatever_its_case(post, reader, settings):
    settings.BLOG_SPAM_WORDS = ["viagra", "Casino"]
    assert listed_words(unsaved(post, reader, "Best CASINO in town")) == "contains a listed word: “Casino”"


def test_a_listed_phrase_matches_across_spacing(post, reader, settings):
    settings.BLOG_SPAM_WORDS = ["free money"]
    assert listed_words(unsaved(post, reader, "Get FREE\n  money now")) == "contains a listed word: “free money”"


def test_a_listed_word_inside_another_word_is_not_a_signal(post, reader, settings):
    settings.BLOG_SPAM_WORDS = ["ass"]
    assert listed_words(unsaved(post, reader, "A classic class, and we pass.")) is None


def test_no_listed_words_no_signal(post, reader, settings):
    settings.BLOG_SPAM_WORDS = []
    assert listed_words(unsaved(post, reader, "casino")) is None


def test_suspicion_gives_the_first_reason_in_the_settings_order(post, reader, settings):
    settings.BLOG_COMMENT_CHECKS = [
        f"{CHECKS}.never_suspicious",
        f"{CHECKS}.mentions_lunch",
        f"{CHECKS}.always_suspicious",
    ]
    assert suspicion(unsaved(post, reader, "The lunch was great")) == "talks about lunch"
    assert suspicion(unsaved(post, reader, "Dinner was great")) == "suspicious by design"


def test_suspicion_follows_a_changed_setting(post, reader, settings):
    """The imported checks are kept per list of paths, not once for all."""
    settings.BLOG_COMMENT_CHECKS = [f"{CHECKS}.always_suspicious"]
    assert suspicion(unsaved(post, reader, "Hello")) == "suspicious by design"
    settings.BLOG_COMMENT_CHECKS = [f"{CHECKS}.never_suspicious"]
    assert suspicion(unsaved(post, reader, "Hello")) is None


def test_the_default_checks_pass_an_ordinary_comment(post, reader):
    assert suspicion(unsaved(post, reader, "Thanks, see https://docs.djangoproject.com for more.")) is None


def test_the_default_checks_catch_link_spam(post, reader, settings):
    settings.BLOG_SPAM_MAX_LINKS = 3
    body = " ".join(f"http://{n}.example" for n in range(5))
    assert suspicion(unsaved(post, reader, body)) == "5 links (more than 3)"


@pytest.mark.parametrize(
    "path", ["tests.blog.moderation.test_checks.no_such_check", "nowhere.check", f"{CHECKS}.not_a_function"]
)
def test_a_check_that_does_not_load_stops_with_the_settings_name(post, reader, settings, path):
    settings.BLOG_COMMENT_CHECKS = [path]
    with pytest.raises(ImproperlyConfigured, match="BLOG_COMMENT_CHECKS"):
        suspicion(unsaved(post, reader, "Hello"))
