"""The post form, and the tag check the admin's post form shares with it."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxLengthValidator

from blog.posts.models import Post
from blog.posts.tags import validate_tag_names

# Long enough for MAX_TAGS_PER_POST tags of TAG_MAX_LENGTH with their commas; longer input is refused unparsed.
TAGS_INPUT_MAX_LENGTH = 600


class TagsCheckedForm(forms.ModelForm):
    """A post form whose tags (django-taggit's field, a list once cleaned) are checked as the service checks them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if "tags" in self.fields:
            field = self.fields["tags"]
            field.widget.attrs["maxlength"] = TAGS_INPUT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(TAGS_INPUT_MAX_LENGTH))

    def clean_tags(self) -> list[str]:
        names = self.cleaned_data["tags"]
        validate_tag_names(names)
        return names


class PostForm(TagsCheckedForm):
    class Meta:
        model = Post
        fields = ["title", "body", "tags", "status"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14}), "status": forms.RadioSelect}


class PostEditForm(TagsCheckedForm):
    """An edit changes the words and the tags; publishing has its own button."""

    class Meta:
        model = Post
        fields = ["title", "body", "tags"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}
