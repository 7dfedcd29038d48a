"""The notifications pages' forms: the list's filters and the signed-in user's preferences
(the emailed-link page's form, notifications.forms.PreferencesForm, with the same fields)."""

from __future__ import annotations

from django import forms

from notifications.forms import PreferencesForm as EmailedPreferencesForm
from notifications.kinds import Kind
from notifications.models import Notification

ANY = [("", "Any")]


class NotificationFilterForm(forms.Form):
    status = forms.ChoiceField(choices=ANY + Notification.Status.choices, required=False)
    kind = forms.ChoiceField(choices=ANY + Kind.choices, required=False)


class PreferencesForm(EmailedPreferencesForm):
    """The same fields and labels as the emailed page's; the hour as a number input."""

    class Meta(EmailedPreferencesForm.Meta):
        widgets = {"digest_hour": forms.NumberInput(attrs={"min": 0, "max": 23})}
        help_texts = {"digest_hour": ""}  # the label says it all
