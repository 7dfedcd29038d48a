from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = "Tasks"

    def ready(self) -> None:
        from notifications.kinds import Kind
        from notifications.rendering import register_context_loader

        from .due_soon import due_soon_context_load

        register_context_loader(Kind.TASK_DUE_SOON, due_soon_context_load)
