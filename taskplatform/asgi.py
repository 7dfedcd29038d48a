"""ASGI entry point (for the live-updates work to come)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskplatform.settings.dev")

application = get_asgi_application()
