"""Search over published posts: PostgreSQL's full-text search on PostgreSQL, a plain match on SQLite.

Both read the search document stored with each post (blog/search/documents.py); nothing is
rendered or computed from a post's body while searching.
- PostgreSQL: the query is parsed as a web search (`websearch_to_tsquery`: words, "a phrase",
  -not, or), matched against the stored tsvector through its GIN index, ranked by SearchRank
  (title above tags above body, ties newest first), with a SearchHeadline of the body's text.
- SQLite: every word of the query (the first MAX_WORDS) must appear in the casefolded document
  (title, tags, body text); newest first; the snippet is cut around the first match
  (blog/search/snippets.py).
Drafts are never searched. A search reads at most MAX_RESULTS posts, a page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import F
from django.utils.safestring import SafeString

from blog.posts import selectors as post_selectors
from blog.posts.models import Post, PostQuerySet
from blog.search import snippets
from blog.search.documents import HIGHLIGHT_START, HIGHLIGHT_STOP, SEARCH_CONFIG

MAX_RESULTS = 200
MAX_WORDS = 10
HEADLINE_OPTIONS = {"max_words": 35, "min_words": 15, "max_fragments": 2, "fragment_delimiter": " … "}


@dataclass(frozen=True)
class Hit:
    post: Post  # with its author and tags
    snippet: SafeString


def full_text() -> bool:
    return connection.vendor == "postgresql"


def query_words(query: str) -> list[str]:
    """The query's distinct words, casefolded as the stored search_text is, at most MAX_WORDS."""
    return list(dict.fromkeys(query.casefold().split()))[:MAX_WORDS]


def matching_posts(query: str) -> PostQuerySet:
    """The published posts that match `query`, best first, at most MAX_RESULTS (sliced: count it, page it)."""
    posts = post_selectors.published_posts()
    if full_text():
        search = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        headline = SearchHeadline(
            "body_text", search, config=SEARCH_CONFIG, start_sel=HIGHLIGHT_START, stop_sel=HIGHLIGHT_STOP,
            **HEADLINE_OPTIONS,
        )  # fmt: skip
        posts = (
            posts.filter(search_vector=search)
            .annotate(rank=SearchRank(F("search_vector"), search), headline=headline)
            .order_by("-rank", "-published_at", "-pk")
        )
    else:
        for word in query_words(query):
            posts = posts.filter(search_text__contains=word)
        posts = posts.defer(None).defer("search_text", "search_vector")  # the excerpt reads body_text
    return posts[:MAX_RESULTS]


def hit(post: Post, query: str) -> Hit:
    """The post with its snippet: PostgreSQL's headline, or an excerpt of its body text."""
    if full_text():
        return Hit(post=post, snippet=snippets.highlighted(post.headline))
    return Hit(post=post, snippet=snippets.excerpt(post.body_text, query_words(query)))
