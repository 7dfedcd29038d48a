"""The API docs pages, shaped for the Content-Security-Policy (settings: "Security headers").

- Swagger UI: drf-spectacular's split view serves the init script as a file
  (`/api/docs/?script=`) instead of inline, so `script-src 'self'` is enough: no inline
  script, no nonce, no hash to keep in step with the template.
- ReDoc: the same page without the Google Fonts links (self-hosted docs shouldn't send
  their readers to Google; ReDoc falls back to its sans-serif stack). ReDoc's bundle
  hard-codes one image, the "API docs by Redocly" logo in the sidebar, from cdn.redoc.ly:
  the page's policy allows that one host for images, or every visit would log a violation.
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

SwaggerView = SpectacularSwaggerSplitView

REDOC_LOGO_ORIGIN = "https://cdn.redoc.ly"


@method_decorator(csp_update({"img-src": [REDOC_LOGO_ORIGIN]}), name="get")
class RedocView(SpectacularRedocView):
    template_name = "taskplatform/redoc.html"
