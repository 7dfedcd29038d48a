from django.contrib import admin

from .models import Meeting, Participant


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["response", "reminder_minutes"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "organizer", "type", "starts_at", "ends_at", "status"]
    list_filter = ["status", "type"]
    search_fields = ["title", "organizer__email"]
    raw_id_fields = ["organizer"]
    date_hierarchy = "starts_at"
    inlines = [ParticipantInline]
    # changes go through the services (sequence, answers, audit): the admin reads
    readonly_fields = [f.name for f in Meeting._meta.fields]

    def has_add_permission(self, request):
        return False
