from django.contrib import admin

from taskplatform.admin_tools import ViewOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    """Read-only: history must not change."""

    list_display = ("created_at", "actor_email", "action", "target_type", "target_id", "ip")
    list_filter = ("action", "target_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("actor_email", "action", "target_id", "request_id")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
