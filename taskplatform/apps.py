from django.apps import AppConfig
from django.urls import register_converter


class TaskplatformConfig(AppConfig):
    name = "taskplatform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from .api.converters import IdConverter

        register_converter(IdConverter, "id")
