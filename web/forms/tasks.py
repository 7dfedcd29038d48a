"""The task forms: what a field accepts (the API's TaskWriteSerializer's shapes); the services
decide the rest (who may change what)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import User, normalize_email
from taskplatform.validators import validate_one_line
from tasks.filters import ORDERING_FIELDS
from tasks.models import Priority, Task

MAX_TAGS = 20
MAX_TAG = 50
# datetime-local in the person's zone (signed_in activates it; Django's DateTimeField makes
# the value aware in the current zone and shows an aware one in it)
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# days a time can be on whatever the zone (year 1 or 9999 overflow when converted to UTC)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
OUT_OF_RANGE = "Pick a date between 1900 and 9998."
PRIORITY_CHOICES = [(p.label, p.label.capitalize()) for p in Priority]
ORDERINGS = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("due_at", "Due soonest"),
    ("-due_at", "Due latest"),
    ("-priority", "Highest priority"),
    ("priority", "Lowest priority"),
    ("title", "Title, A to Z"),
    ("-title", "Title, Z to A"),
]
assert {term.lstrip("-") for term, _ in ORDERINGS} <= set(ORDERING_FIELDS)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=LOCAL_FORMAT)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _priority(label: str) -> int:
    return Priority.from_label(label).value


def active_user(email: str) -> User | None:
    """The active account with this address (case-insensitive), as the API's assignee_email."""
    found: User | None = (
        get_user_model()
        .objects.filter(is_active=True, email__iexact=normalize_email(email))
        .first()
    )
    return found


class TaskForm(forms.Form):
    """A new task, or an edited one (without the assignee: the detail page's assign form)."""

    title = forms.CharField(max_length=200, validators=[validate_one_line])
    description = forms.CharField(
        max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    status = forms.ChoiceField(choices=Task.Status.choices, initial=Task.Status.TODO)
    priority = forms.TypedChoiceField(
        choices=PRIORITY_CHOICES, coerce=_priority, initial=Priority.MEDIUM.label
    )
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        input_formats=[LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=LocalDateTimeInput(),
        help_text="In your time zone; leave empty for no due date.",
    )
    tags = forms.CharField(
        required=False,
        validators=[validate_one_line],
        max_length=MAX_TAGS * (MAX_TAG + 2),
        help_text=f"Separated by commas, up to {MAX_TAGS}.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. home, urgent"}),
    )
    visibility = forms.ChoiceField(
        choices=Task.Visibility.choices,
        initial=Task.Visibility.PRIVATE,
        help_text="Public tasks are seen by everyone signed in.",
    )
    assignee = forms.EmailField(
        label="Assign to",
        required=False,
        max_length=254,
        help_text="Their email address; leave empty for nobody.",
    )

    def __init__(self, *args: Any, with_assignee: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_assignee:
            del self.fields["assignee"]

    @classmethod
    def initial_for(cls, task: Task, tags: list[str]) -> dict[str, Any]:
        return {
            "title": task.title,
            "description": task.description,
            "status": task.status,
            "priority": Priority.label_of(task.priority),
            "due_at": task.due_at,
            "tags": ", ".join(tags),
            "visibility": task.visibility,
        }

    def clean_due_at(self) -> datetime | None:
        due = self.cleaned_data["due_at"]
        if due is not None and not FIRST_DAY <= due.date() <= LAST_DAY:
            raise forms.ValidationError(OUT_OF_RANGE)
        return due

    def clean_tags(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(f"At most {MAX_TAGS} tags.")
        if too_long := [name for name in names if len(name) > MAX_TAG]:
            raise forms.ValidationError(f"A tag has at most {MAX_TAG} characters: {too_long[0]}.")
        return names

    def clean_assignee(self) -> User | None:
        return _assignee(self.cleaned_data["assignee"])


def _assignee(email: str) -> User | None:
    if not email:
        return None
    user = active_user(email)
    if user is None:
        raise forms.ValidationError("No active user with this email address.")
    return user


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Task.Status.choices)


class AssignForm(forms.Form):
    assignee = forms.EmailField(
        label="Assign to",
        required=False,
        max_length=254,
        help_text="Their email address; empty: nobody.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def clean_assignee(self) -> User | None:
        return _assignee(self.cleaned_data["assignee"])


class TaskFilterForm(forms.Form):
    """The list's search, filters and order, as a GET form (the API's query parameters)."""

    search = forms.CharField(required=False, max_length=200, widget=forms.SearchInput)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Task.Status.choices])
    priority = forms.ChoiceField(required=False, choices=[("", "Any priority"), *PRIORITY_CHOICES])
    tag = forms.CharField(required=False, max_length=MAX_TAG)
    mine = forms.ChoiceField(
        label="Whose",
        required=False,
        choices=[("", "All I can see"), ("owner", "Owned by me"), ("assignee", "Assigned to me")],
    )
    due_after = forms.DateField(label="Due from", required=False, widget=DateInput())
    due_before = forms.DateField(label="Due until", required=False, widget=DateInput())
    overdue = forms.BooleanField(label="Overdue only", required=False)
    ordering = forms.ChoiceField(label="Sort", required=False, choices=ORDERINGS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        for name in ("due_after", "due_before"):
            if data.get(name) and not FIRST_DAY <= data[name] <= LAST_DAY:
                self.add_error(name, OUT_OF_RANGE)
        after, before = data.get("due_after"), data.get("due_before")
        if after and before and after > before:
            self.add_error("due_before", "Pick a day on or after “Due from”.")
        return data

    def criteria(self, user: User) -> dict[str, Any]:
        """tasks.filters.tasks_filtered's keywords for the cleaned values."""
        data = self.cleaned_data
        mine = data["mine"]
        return {
            "search": data["search"],
            "statuses": [data["status"]] if data["status"] else [],
            "priorities": [Priority.from_label(data["priority"])] if data["priority"] else [],
            "tags": [data["tag"]] if data["tag"].strip() else [],
            # whole days in the person's zone
            "due_from": _day_start(data["due_after"]) if data["due_after"] else None,
            "due_to": (
                _day_start(data["due_before"] + timedelta(days=1)) - timedelta(microseconds=1)
                if data["due_before"]
                else None
            ),
            "owner_id": user.pk if mine == "owner" else None,
            "assignee_id": user.pk if mine == "assignee" else None,
            "overdue": True if data["overdue"] else None,
        }

    def ordering_terms(self) -> list[str]:
        return [self.cleaned_data.get("ordering") or ORDERINGS[0][0]]


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
