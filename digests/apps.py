from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "digests"
    verbose_name = "Daily digests"

    def ready(self) -> None:
        from notifications.kinds import Kind
        from notifications.rendering import register_context_loader

        from .content import digest_context_load

        register_context_loader(Kind.DAILY_DIGEST, digest_context_load)
