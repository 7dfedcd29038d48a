from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meetings"

    def ready(self) -> None:
        from notifications.delivery import register_attachments
        from notifications.kinds import Kind
        from notifications.rendering import register_context_loader

        from .invitations import invitation_attachments, invitation_contexts_load

        for kind in (Kind.MEETING_INVITATION, Kind.MEETING_CANCELLED):
            register_context_loader(kind, invitation_contexts_load, many=True)
            register_attachments(kind, invitation_attachments)
