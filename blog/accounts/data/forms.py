"""The account deletion form: two deliberate acts (the password and "I understand"), and, for an
author, whether the posts go to an Editor or go too. It parses; the service checks the password."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from blog.accounts.models import User

HAND_OVER = "hand-over"
DELETE = "delete"

MESSAGE_CHOOSE_HEIR = "Choose the Editor who takes your posts, or choose to delete them."


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    posts = forms.ChoiceField(
        label="Your posts",
        choices=[(HAND_OVER, "Hand them to an Editor, who becomes their author"), (DELETE, "Delete them")],
        widget=forms.RadioSelect,
    )
    posts_to = forms.ModelChoiceField(
        label="The Editor who takes them", queryset=User.objects.none(), required=False, to_field_name="username"
    )
    understand = forms.BooleanField(
        label="I understand: my account, my comments and what I was told go for good, and this cannot be undone."
    )

    def __init__(self, *args: object, heirs: QuerySet[User], has_posts: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if has_posts:
            self.fields["posts_to"].queryset = heirs.order_by("username")
        else:
            del self.fields["posts"], self.fields["posts_to"]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if cleaned.get("posts") == HAND_OVER and cleaned.get("posts_to") is None and "posts_to" not in self.errors:
            self.add_error("posts_to", MESSAGE_CHOOSE_HEIR)
        return cleaned

    def heir(self) -> User | None:
        """The Editor chosen for the posts; None: they are deleted (or there are none)."""
        if self.cleaned_data.get("posts") != HAND_OVER:
            return None
        return self.cleaned_data["posts_to"]
