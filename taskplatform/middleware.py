"""Request context (the request id, taken from X-Request-ID or made, and a log line a request)
and the Content-Security-Policy header."""

from __future__ import annotations

import logging
import time

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.utils.functional import SimpleLazyObject, empty

from live.context import live_connect_source

from .context import clean_request_id, client_ip_var, request_id_var
from .net import client_ip

log = logging.getLogger("taskplatform.request")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        tokens = (request_id_var.set(request_id), client_ip_var.set(client_ip(request)))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": _user_id(request),
                    "ip": client_ip_var.get(),
                },
            )
            return response
        finally:
            request_id_var.reset(tokens[0])
            client_ip_var.reset(tokens[1])


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    # _wrapped is LazyObject's private slot, undeclared in django-stubs
    if isinstance(user, SimpleLazyObject) and getattr(user, "_wrapped", None) is empty:
        # never looked up by the view: don't query now (the database may be why it failed)
        return None
    return getattr(user, "pk", None)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp with two policies: settings.CONTENT_SECURITY_POLICY for every response
    (strict), CONTENT_SECURITY_POLICY_PAGES for the HTML pages under its URL_PREFIXES.

    Chosen by path and type together: a user's uploaded .html downloaded from the API
    keeps the strict policy. A view's own @csp decorator still wins, and @csp_update adds
    to whichever policy applies (see taskplatform/api/docs.py).
    """

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and parts.config is None and self._is_page(request, response):
            parts.config = settings.CONTENT_SECURITY_POLICY_PAGES["DIRECTIVES"]
            # pages open a WebSocket to the live process (live/static/live/live.js), on
            # another port unless LIVE_WS_URL routes it through the same origin
            live = live_connect_source(request)
            parts.update = {**(parts.update or {})}
            parts.update["connect-src"] = [*parts.update.get("connect-src", []), live]
        return parts

    @staticmethod
    def _is_page(request, response) -> bool:
        prefixes = tuple(settings.CONTENT_SECURITY_POLICY_PAGES["URL_PREFIXES"])
        content_type = response.get("Content-Type", "")
        return request.path_info.startswith(prefixes) and content_type.startswith("text/html")
