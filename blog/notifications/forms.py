"""The preferences form: for each kind of notification, page, email or off."""

from __future__ import annotations

from django import forms

from blog.notifications.models import Channel, NotificationKind, NotificationPreferences


class PreferencesForm(forms.Form):
    """One radio choice per kind, named after the kind; it parses, the service saves."""

    def __init__(self, *args: object, preferences: NotificationPreferences, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=Channel.choices,
                widget=forms.RadioSelect,
                initial=preferences.channel(kind),
            )

    def channels(self) -> dict[str, str]:
        return {kind: self.cleaned_data[kind] for kind in NotificationKind.values}
