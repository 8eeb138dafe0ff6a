"""The post form."""

from __future__ import annotations

from django import forms

from blog.posts.models import Post


class PostForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = ["title", "body", "status"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14}), "status": forms.RadioSelect}


class PostEditForm(forms.ModelForm):
    """An edit changes the words; publishing has its own button."""

    class Meta:
        model = Post
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}
