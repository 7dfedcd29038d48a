from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from rest_framework.filters import OrderingFilter

from jobs import kinds
from jobs.models import Job
from taskplatform.api.filters import ChoiceInFilter, IdFilter


def _flag(field: str) -> django_filters.TypedChoiceFilter:
    """`true` or `false`; anything else is a 400 (BooleanFilter would ignore it)."""
    return django_filters.TypedChoiceFilter(
        field_name=field,
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
    )


class AdminUserFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", help_text="In email and name.")
    is_active = _flag("is_active")
    is_staff = _flag("is_staff")

    class Meta:
        model = get_user_model()
        fields = ["search", "is_active", "is_staff"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(email__icontains=value) | Q(full_name__icontains=value))


class AdminJobFilter(django_filters.FilterSet):
    kind = ChoiceInFilter(choices=[(k, k) for k in kinds.names()])
    status = ChoiceInFilter(choices=Job.Status.choices)
    owner = IdFilter(field_name="owner_id", help_text="A user id.")
    search = django_filters.CharFilter(method="filter_search", help_text="In name and owner.")

    class Meta:
        model = Job
        fields = ["kind", "status", "owner", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(owner__email__icontains=value))


class NullsLastOrderingFilter(OrderingFilter):
    """`?ordering=` with NULLs last in either direction (a user without tasks has no
    completion rate: neither the best nor the worst) and the id as the tie-break, so pages
    don't shift between requests."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        terms = [
            F(field[1:]).desc(nulls_last=True)
            if field.startswith("-")
            else F(field).asc(nulls_last=True)
            for field in ordering
        ]
        return queryset.order_by(*terms, "pk")
