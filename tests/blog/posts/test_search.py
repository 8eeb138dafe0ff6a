"""Search (/search/?q=) over published posts: full-text on PostgreSQL, a plain match on SQLite; safe snippets.

Both legs run every test here; the ones about ranking, stemming, the GIN index and SearchHeadline
are PostgreSQL's alone and skip on SQLite.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.utils import timezone

from blog.models import Post
from blog.search import selectors as search_selectors
from blog.search.documents import SEARCH_CONFIG
from blog.search.forms import MESSAGE_QUERY_TOO_LONG, QUERY_MAX_LENGTH
from blog.search.snippets import excerpt, highlighted
from tests.factories import make_post

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's full-text search (the SQLite leg has its plain match)"
)


def search(client, query: str, **params: object):
    return client.get("/search/", {"q": query, **params})


def found_titles(client, query: str, **params: object) -> list[str]:
    response = search(client, query, **params)
    assert response.status_code == 200
    return re.findall(r'<h2><a href="/blog/posts/\d+/">([^<]*)</a></h2>', response.content.decode())


def snippets(client, query: str) -> list[str]:
    return re.findall(r'<p class="search-snippet">(.*?)</p>', search(client, query).content.decode(), re.S)


def test_search_finds_published_posts_by_title_body_or_tag(client, author):
    make_post(author, title="Channels in depth", body="Layers and groups.")
    make_post(author, title="Another post", body="We talk about **channels** here.")
    make_post(author, title="Tagged one", body="Nothing in the text.").tags.add("Channels")
    make_post(author, title="Unrelated", body="Templates.")
    assert sorted(found_titles(client, "channels")) == ["Another post", "Channels in depth", "Tagged one"]


def test_search_never_finds_a_draft(client, author):
    make_post(author, title="Secret plans", body="Unannounced launch.", published=False)
    make_post(author, title="Public", body="launch day")
    assert found_titles(client, "launch") == ["Public"]
    assert found_titles(client, "secret") == []


def test_every_word_of_the_query_must_match(client, author):
    make_post(author, title="Async views", body="Django runs them.")
    make_post(author, title="Async consumers", body="Channels runs them.")
    assert found_titles(client, "async django") == ["Async views"]


def test_an_empty_query_shows_the_form_only(client, post):
    for query in ("", "   "):
        html = search(client, query).content.decode()
        assert 'name="q"' in html and "search-results" not in html and "found" not in html
    assert client.get("/search/").status_code == 200


def test_a_query_longer_than_the_limit_is_refused_with_400(client, post):
    response = search(client, "a" * (QUERY_MAX_LENGTH + 1))
    assert response.status_code == 400
    assert MESSAGE_QUERY_TOO_LONG in response.content.decode()
    assert search(client, "a" * QUERY_MAX_LENGTH).status_code == 200


def test_a_query_with_a_nul_character_is_refused_not_an_error(client, post):
    assert search(client, "bad\x00query").status_code == 400


def test_nothing_found_says_so(client, post):
    assert "No published post matches “zebra”." in search(client, "zebra").content.decode()


def test_results_are_paged_and_capped(client, author, settings, monkeypatch):
    settings.BLOG_POSTS_PER_PAGE = 2
    monkeypatch.setattr(search_selectors, "MAX_RESULTS", 5)
    Post.objects.bulk_create(
        Post(
            author=author, title=f"Paged {n}", body="p", status=Post.Status.PUBLISHED,
            published_at=timezone.now(), search_text=f"paged {n}\n\np",
        )
        for n in range(7)
    )  # fmt: skip
    if connection.vendor == "postgresql":  # bulk_create skips save(): store the documents as save() would
        for post in Post.objects.all():
            post.save()
    first = search(client, "paged").content.decode()
    assert "5+ posts found" in first and "Page 1 of 3" in first
    assert len(found_titles(client, "paged", page=3)) == 1
    assert len(found_titles(client, "paged", page=99)) == 1  # past the end: the last page


def test_a_tag_added_later_makes_the_post_findable_and_a_removed_one_not(client, author):
    post = make_post(author, title="Plain", body="Nothing to see.")
    assert found_titles(client, "kubernetes") == []
    post.tags.add("kubernetes")
    assert found_titles(client, "kubernetes") == ["Plain"]
    post.tags.remove("kubernetes")
    assert found_titles(client, "kubernetes") == []


def test_an_edited_title_or_body_is_found_by_its_new_words(client, author):
    post = make_post(author, title="Old title", body="old body")
    post.title, post.body = "Fresh title", "rewritten body"
    post.save()
    assert found_titles(client, "fresh") == ["Fresh title"]
    assert found_titles(client, "rewritten") == ["Fresh title"]
    assert found_titles(client, "old") == []


def test_a_snippet_escapes_the_posts_text_and_marks_only_the_match(client, author):
    body = 'Write `<script>alert(1)</script>` and "Tom & Jerry\'s" near the needle here.'
    make_post(author, title="Markup", body=body)
    [snippet] = snippets(client, "needle")
    assert "<script" not in snippet and "Tom &amp; Jerry&#x27;s" in snippet
    assert re.findall(r"<(\w+)", snippet) == ["mark"]
    assert "<mark>needle</mark>" in snippet


def test_a_query_that_looks_like_markup_is_escaped_everywhere(client, author):
    make_post(author, title="Plain", body="a mark b")
    html = search(client, '<mark onmouseover="x">').content.decode()
    assert 'onmouseover="x"' not in html
    assert "&lt;mark onmouseover=&quot;x&quot;&gt;" in html


def test_the_header_has_a_search_box(client, post):
    html = client.get("/blog/").content.decode()
    assert re.search(r'<form class="site-search" role="search" method="get" action="/search/">', html)
    assert 'name="q"' in html


def test_anonymous_results_may_be_kept_by_shared_caches_for_a_few_seconds(client, post, settings):
    settings.BLOG_PUBLIC_CACHE_SECONDS = 7
    assert search(client, "post")["Cache-Control"] == "public, max-age=7"


def test_a_page_of_results_takes_a_fixed_number_of_queries(client, author, django_assert_num_queries):
    for n in range(6):
        make_post(author, title=f"Counted {n}", body="counted words").tags.set([f"t{n}", "shared"])
    # The count, then the page of posts with their authors, tags (and, on PostgreSQL, headlines).
    with django_assert_num_queries(2):
        assert len(found_titles(client, "counted")) == 6


# The snippets, built without a database.


def test_an_excerpt_is_cut_around_the_first_match_and_escaped():
    text = "word " * 100 + "the <needle> & more " + "tail " * 100
    html = excerpt(text, ["<needle>"])
    assert html.startswith("… ") and html.endswith(" …")
    assert "<mark>&lt;needle&gt;</mark> &amp; more" in html
    assert len(html) < 400


def test_an_excerpt_without_a_match_is_the_start_of_the_text():
    assert excerpt("Short text.", ["absent"]) == "Short text."


def test_a_headline_is_escaped_except_its_markers():
    assert highlighted("<b>\ue000x\ue001</b> \ue000y\ue001") == "&lt;b&gt;<mark>x</mark>&lt;/b&gt; <mark>y</mark>"


def test_a_posts_own_marker_characters_are_dropped_when_stored(author):
    post = make_post(author, body="sneaky \ue000 open \ue001 close")
    post.refresh_from_db()
    assert "\ue000" not in post.body_text and "\ue001" not in post.body_text


# PostgreSQL: the stored vector, its index, ranking, stemming and SearchHeadline.


@postgresql_only
def test_the_search_vector_is_stored_with_the_post_and_its_tags(author):
    post = make_post(author, title="Vector title", body="Body words")
    post.tags.add("tagword")
    vector = Post.objects.values_list("search_vector", flat=True).get(pk=post.pk)
    assert "'vector':1A" in vector and "'tagword':3B" in vector and "'bodi':4C" in vector


@postgresql_only
def test_the_search_vector_has_a_gin_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'blog_post' AND indexdef LIKE '%gin%'")
        [(definition,)] = cursor.fetchall()
    assert "search_vector" in definition


@postgresql_only
def test_a_title_match_ranks_above_a_tag_match_above_a_body_match(client, author):
    # Made best first, so that newest first would list them the other way round.
    make_post(author, title="Falcon in the title", body="nothing")
    make_post(author, title="Tag match", body="nothing").tags.add("falcon")
    make_post(author, title="Body match", body="about the falcon").tags.add("bird")
    assert found_titles(client, "falcon") == ["Falcon in the title", "Tag match", "Body match"]


@postgresql_only
def test_words_are_matched_by_their_stem(client, author):
    make_post(author, title="Publishing", body="We published the posts.")
    assert found_titles(client, "publish") == ["Publishing"]


@postgresql_only
def test_web_search_syntax_excludes_words(client, author):
    make_post(author, title="Redis layer", body="channels redis")
    make_post(author, title="Memory layer", body="channels in memory")
    assert found_titles(client, "channels -redis") == ["Memory layer"]


@postgresql_only
def test_the_headline_marks_the_matched_words_and_escapes_the_rest(client, author):
    make_post(author, title="Headline", body="Before <b>bold</b> text, then the falcons fly & land.")
    [snippet] = snippets(client, "falcon")
    assert "<mark>falcons</mark>" in snippet
    assert "&lt;b&gt;" not in snippet  # Markdown's raw HTML was sanitised before body_text was stored
    assert "&amp; land" in snippet
    assert re.findall(r"<(\w+)", snippet) == ["mark"]


@postgresql_only
def test_the_search_matches_through_the_gin_index(author):
    Post.objects.bulk_create(
        Post(author=author, title=f"Filler {n}", body="filler", status=Post.Status.PUBLISHED) for n in range(200)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a small table is read whole otherwise
    search = SearchQuery("falcon", search_type="websearch", config=SEARCH_CONFIG)  # as matching_posts asks
    assert "post_search_vector_gin" in Post.objects.filter(search_vector=search).explain()
