from django.contrib import admin

from .models import WatchState


@admin.register(WatchState)
class WatchStateAdmin(admin.ModelAdmin):
    """What the health watch last found (read only; the watch writes it every 5 minutes)."""

    list_display = ("name", "healthy", "problems", "changed_at", "checked_at")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
