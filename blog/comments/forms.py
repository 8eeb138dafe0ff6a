"""The comment form: it parses and shows errors; the comment services decide and save."""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorList

from blog.comments.cursors import MAX_ID, BadCursor, whole_number
from blog.comments.models import COMMENT_MAX_LENGTH


class UncheckedTextField(forms.CharField):
    """Text exactly as sent. CharField would refuse NUL with its own message;
    the comment service owns that rule, so both transports give the same answer."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.validators = []


class CommentForm(forms.Form):
    # Not required and not stripped here: the comment service owns the body rules
    # and reports them, so HTTP and WebSocket clients read the same messages.
    body = UncheckedTextField(
        label="Your comment",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": COMMENT_MAX_LENGTH, "placeholder": "Add a comment"}),
    )
    client_id = UncheckedTextField(required=False, widget=forms.HiddenInput)
    # The comment this one answers; the service checks it (errors.parent), this only reads it.
    parent = UncheckedTextField(required=False, widget=forms.HiddenInput)

    def parent_id(self) -> int | str | None:
        """The parent as sent: None when absent, an id when it is one, else the text (which the service refuses)."""
        text = self.cleaned_data.get("parent") or ""
        if not text:
            return None
        try:
            return whole_number(text, lowest=1, highest=MAX_ID, message="")
        except BadCursor:
            return text

    def non_field_errors(self) -> ErrorList:
        # The page has no visible field for client_id, so its errors are shown with the form's own.
        errors = [*super().non_field_errors(), *self.errors.get("client_id", []), *self.errors.get("parent", [])]
        return self.error_class(errors, error_class="nonfield", renderer=self.renderer)
