from django.apps import AppConfig


class TaskplatformConfig(AppConfig):
    name = "taskplatform"
    verbose_name = "Platform"
