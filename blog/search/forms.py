"""The search form: one query, bounded."""

from __future__ import annotations

from django import forms

QUERY_MAX_LENGTH = 200
MESSAGE_QUERY_TOO_LONG = f"Search for at most {QUERY_MAX_LENGTH} characters."


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search posts",
        required=False,
        max_length=QUERY_MAX_LENGTH,
        error_messages={"max_length": MESSAGE_QUERY_TOO_LONG},
        widget=forms.TextInput(attrs={"type": "search"}),
    )
