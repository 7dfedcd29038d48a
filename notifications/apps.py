from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from . import checks, webhooks  # noqa: F401  (registers the checks, the tracking signal)
        from .kinds import Kind
        from .limits import held_back_context_load
        from .rendering import register_context_loader

        register_context_loader(Kind.EMAILS_HELD_BACK, held_back_context_load)
