"""Pieces every app's admin shares: read-only history, actions that call a service."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages

from .exceptions import ApplicationError


class HistoryAdmin(admin.ModelAdmin):
    """History must not change: every field read only, nothing added or deleted here."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyAdmin(HistoryAdmin):
    """History nobody may even open for editing (audit events, job runs)."""

    def has_change_permission(self, request, obj=None):
        return False


def apply_service(modeladmin, request, queryset, service: Callable, done: str) -> None:
    """Call `service(<model>=obj, actor=request.user)` for each selected row.

    A refusal (ApplicationError, e.g. "already paused") is a warning for that row, not an
    error page; the others still go through.
    """
    keyword = queryset.model._meta.model_name
    ok = 0
    for obj in queryset:
        try:
            service(**{keyword: obj}, actor=request.user)
            ok += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
    if ok:
        modeladmin.message_user(request, f"{ok} {keyword}(s) {done}.")
