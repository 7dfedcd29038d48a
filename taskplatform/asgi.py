"""ASGI entry point: the live process (`python -m live`, Procfile `live:`).

WebSocket /ws/ goes to live updates (the web session's cookie, or a bearer token, say who
the caller is: live/auth.py); HTTP to Django as in the web process (probes, /health/).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskplatform.settings.dev")

# Django set up first: the imports below read settings and models
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from live.origin import OriginCheck  # noqa: E402
from live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": OriginCheck(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
