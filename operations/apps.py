from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the platform: admin API, dashboard, stats, prune, health watch."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"
