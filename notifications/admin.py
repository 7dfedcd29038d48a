from django.contrib import admin

from taskplatform.admin_tools import HistoryAdmin

from . import services
from .models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(HistoryAdmin):
    """History is read only; "resend" queues a fresh attempt through the service."""

    list_display = ("created_at", "to_email", "kind", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "kind", "created_at")
    search_fields = ("to_email", "subject", "provider_message_id", "idempotency_key")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    actions = ["resend"]

    @admin.action(description="Resend the selected notifications")
    def resend(self, request, queryset):
        for notification in queryset:
            services.notification_resend(notification=notification, actor=request.user)
        self.message_user(request, f"{queryset.count()} notification(s) queued to resend.")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "job_created",
        "job_succeeded",
        "job_failed",
        "task_due_soon",
        "task_assigned",
        "daily_digest",
        "digest_hour",
    )
    list_filter = ("job_failed", "daily_digest")
    search_fields = ("user__email",)
    list_select_related = ("user",)
