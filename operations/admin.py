from django.contrib import admin

from taskplatform.admin_tools import HistoryAdmin

from .models import WatchState


@admin.register(WatchState)
class WatchStateAdmin(HistoryAdmin):
    """What the health watch last found (read only; the watch writes it every 5 minutes)."""

    list_display = ("name", "healthy", "problems", "changed_at", "checked_at")
