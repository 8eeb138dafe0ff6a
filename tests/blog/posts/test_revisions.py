"""Corrections in the open: an Editor's edit of a published post keeps what it said and shows what changed."""

from __future__ import annotations

import pytest
from django.test import Client

from blog import events
from blog.models import Post, PostRevision, User
from blog.posts import services as post_services
from blog.posts.diffs import lines_diff, post_diff, words_diff
from tests.blog.accounts.two_factor.helpers import enrol, require, verified_client
from tests.blog.posts.test_feeds import entries
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

BODY = "First paragraph.\n\nThe quick brown fox.\n\nLast paragraph."


@pytest.fixture
def story(author):
    return make_post(author, title="A story", body=BODY)


@pytest.fixture
def editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


def edit(client: Client, post: Post, *, title: str, body: str):
    return client.post(f"/blog/posts/{post.pk}/edit/", {"title": title, "body": body})


def test_an_editors_edit_of_a_published_post_keeps_the_old_text_and_says_so(
    editor_client, editor, story, django_capture_on_commit_callbacks
):
    told = []
    events.subscribe(told.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = edit(editor_client, story, title="A better story", body=BODY.replace("quick", "slow"))
    finally:
        events._handlers.remove(told.append)
    assert response.status_code == 302
    story.refresh_from_db()
    assert (story.title, "slow" in story.body, "slow" in story.body_html) == ("A better story", True, True)
    [revision] = PostRevision.objects.all()
    assert (revision.title, revision.body, revision.editor) == ("A story", BODY, editor)
    assert story.revised == revision.replaced
    [revised] = [event for event in told if isinstance(event, events.PostRevised)]
    assert (revised.post_id, revised.revision_id) == (story.pk, revision.pk)

    page = Client().get(story.get_absolute_url()).content.decode()
    assert "Updated <time" in page and f'href="/blog/posts/{story.pk}/changes/"' in page


def test_what_changed_shows_the_old_and_new_words(editor_client, story):
    edit(editor_client, story, title="A better story", body=BODY.replace("quick", "slow"))
    revision = PostRevision.objects.get()
    listing = Client().get(f"/blog/posts/{story.pk}/changes/").content.decode()
    assert f'href="/blog/posts/{story.pk}/changes/{revision.pk}/"' in listing
    page = Client().get(f"/blog/posts/{story.pk}/changes/{revision.pk}/").content.decode()
    assert "<del>quick</del><ins>slow</ins>" in page
    assert "A <ins>better </ins>story" in page


def test_each_edit_is_compared_with_the_one_after_it(editor_client, story):
    edit(editor_client, story, title="A story", body="One.")
    edit(editor_client, story, title="A story", body="Two.")
    first, second = PostRevision.objects.order_by("id")
    page = Client().get(f"/blog/posts/{story.pk}/changes/{first.pk}/").content.decode()
    assert "<del>" in page and "One." in page and "Two." not in page
    assert "Later edits followed" in page
    page = Client().get(f"/blog/posts/{story.pk}/changes/{second.pk}/").content.decode()
    assert "<del>One.</del><ins>Two.</ins>" in page
    assert "Later edits followed" not in page


def test_the_old_text_is_shown_as_text_never_as_markup(editor_client, author):
    post = make_post(author, body="<script>alert(1)</script> and <b>bold</b>")
    edit(editor_client, post, title=post.title, body="Clean now.")
    revision = PostRevision.objects.get()
    page = Client().get(f"/blog/posts/{post.pk}/changes/{revision.pk}/").content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_edit_that_changes_nothing_keeps_no_revision(editor_client, story):
    edit(editor_client, story, title=story.title, body=story.body)
    assert not PostRevision.objects.exists()
    story.refresh_from_db()
    assert story.revised is None


def test_editing_a_draft_keeps_no_history(author, draft):
    client = Client()
    client.force_login(author)
    response = edit(client, draft, title="Still a draft", body="Rewritten.")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.revised) == ("Still a draft", None)
    assert not PostRevision.objects.exists()


def test_only_editors_edit_a_published_post(story, author, reader):
    for user in (author, reader):
        client = Client()
        client.force_login(user)
        assert edit(client, story, title="Mine now", body="Rewritten.").status_code == 403
    assert Client().get(f"/blog/posts/{story.pk}/edit/").status_code == 302  # to the login page
    story.refresh_from_db()
    assert story.title == "A story"


def test_the_service_refuses_whoever_the_view_would(story, reader):
    with pytest.raises(post_services.PermissionDenied):
        post_services.post_edit(post=story, actor=reader, title="Mine", body="Rewritten.")
    assert not PostRevision.objects.exists()


def test_a_drafts_changes_are_not_for_anonymous_readers(author, draft):
    assert Client().get(f"/blog/posts/{draft.pk}/changes/").status_code == 404


def test_a_revision_of_another_post_is_not_found(editor_client, story, author):
    other = make_post(author)
    edit(editor_client, story, title="Edited", body="Edited.")
    revision = PostRevision.objects.get()
    assert Client().get(f"/blog/posts/{other.pk}/changes/{revision.pk}/").status_code == 404


def test_an_edit_in_the_admin_keeps_the_old_text_too(story):
    chief = User.objects.create_superuser("chief", password="x")
    client = Client()
    client.force_login(chief)
    form = {"title": "Edited in the admin", "body": BODY, "author": story.author_id, "status": "published"}
    response = client.post(f"/admin/blog/post/{story.pk}/change/", form)
    assert response.status_code == 302, response.content
    [revision] = PostRevision.objects.all()
    assert (revision.title, revision.editor) == ("A story", chief)


def test_a_page_cached_before_the_edit_shows_the_update(editor_client, story, django_capture_on_commit_callbacks):
    assert "Updated <time" not in Client().get(story.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        edit(editor_client, story, title="A story", body="New words.")
    page = Client().get(story.get_absolute_url()).content.decode()
    assert "Updated <time" in page and "New words." in page


def test_the_edit_link_shows_to_those_who_may_edit(editor_client, story, reader):
    assert "Edit this post" in editor_client.get(story.get_absolute_url()).content.decode()
    client = Client()
    client.force_login(reader)
    assert "Edit this post" not in client.get(story.get_absolute_url()).content.decode()


def test_unchanged_stretches_are_folded_around_a_change():
    old = "\n".join(f"line {n}" for n in range(20))
    new = old.replace("line 10", "line ten")
    kinds = [(line.kind, line.folded) for line in lines_diff(old, new)]
    assert kinds == [("folded", 8), ("same", 0), ("same", 0), ("changed", 0), ("same", 0), ("same", 0), ("folded", 7)]


def test_a_changed_line_marks_only_its_changed_words():
    pieces = [(piece.kind, piece.text) for piece in words_diff("The quick brown fox", "The slow brown fox jumps")]
    assert pieces == [
        ("same", "The "),
        ("removed", "quick"),
        ("added", "slow"),
        ("same", " brown fox"),
        ("added", " jumps"),
    ]


def test_an_unchanged_title_is_not_shown_as_a_change():
    assert post_diff(old_title="Same", old_body="a", new_title="Same", new_body="b").title is None


def test_a_user_who_may_not_edit_is_refused_by_the_service_even_for_a_draft(draft):
    stranger = make_user()
    with pytest.raises(post_services.PermissionDenied):
        post_services.post_edit(post=draft, actor=stranger, title="Mine", body="Rewritten.")


def test_a_covered_editor_edits_a_published_post_only_after_a_second_factor(settings, editor, story):
    require(settings, "staff,publishers")
    enrol(editor)
    client = Client()
    client.force_login(editor)
    response = edit(client, story, title="Unchecked", body="Rewritten.")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/code/")
    story.refresh_from_db()
    assert story.title == "A story" and not PostRevision.objects.exists()

    assert edit(verified_client(editor), story, title="Checked", body="Rewritten.").status_code == 302
    story.refresh_from_db()
    assert story.title == "Checked"


def test_an_author_edits_their_own_draft_without_a_second_factor(settings, author, draft):
    require(settings, "staff,publishers")
    author.is_staff = True  # covered, but this is no privileged power
    author.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(author)
    assert edit(client, draft, title="My draft, better", body="Rewritten.").status_code == 302


def test_the_edit_form_changes_the_tags_too_without_a_revision(editor_client, story):
    story.tags.set(["old"])
    form = editor_client.get(f"/blog/posts/{story.pk}/edit/").content.decode()
    assert 'value="old"' in form
    response = editor_client.post(
        f"/blog/posts/{story.pk}/edit/", {"title": story.title, "body": story.body, "tags": "django, async"}
    )
    assert response.status_code == 302
    assert sorted(story.tag_names()) == ["async", "django"]
    assert not PostRevision.objects.exists()


def test_the_feed_entry_is_updated_by_an_editors_correction(editor_client, story):
    before = entries(Client(), "/blog/feed/")[0]["updated"]
    edit(editor_client, story, title=story.title, body="Corrected.")
    [entry] = entries(Client(), "/blog/feed/")
    assert entry["updated"] > before and entry["summary"] == "<p>Corrected.</p>"


def test_the_admin_lists_earlier_versions_read_only(editor_client, story):
    edit(editor_client, story, title="Retitled", body="Rewritten.")
    revision = PostRevision.objects.get()
    chief = User.objects.create_superuser("chief", password="x")
    admin = Client()
    admin.force_login(chief)
    listing = admin.get("/admin/blog/postrevision/")
    assert listing.status_code == 200 and "Retitled" in listing.content.decode()
    page = admin.get(f"/admin/blog/postrevision/{revision.pk}/change/").content.decode()
    assert "A story" in page and 'name="title"' not in page  # shown, not editable
    assert admin.post(f"/admin/blog/postrevision/{revision.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PostRevision.objects.filter(pk=revision.pk).exists()
