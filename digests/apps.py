from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "digests"
    verbose_name = "Daily digests"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from notifications.kinds import Kind
        from notifications.rendering import register_context_loader

        from .content import digest_contexts_load
        from .zoned import sqlite_functions_register

        register_context_loader(Kind.DAILY_DIGEST, digest_contexts_load, many=True)
        connection_created.connect(sqlite_functions_register, dispatch_uid="digests.zoned")
