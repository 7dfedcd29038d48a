"""One error envelope for every API error:

    {"error": {"code": "not_found", "message": "...", "details": {...}, "request_id": "..."}}

`ApplicationError` is the one exception type services raise for domain errors.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError, connections
from django.http import Http404, JsonResponse, UnreadablePostError
from django.shortcuts import render
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from taskplatform import counters
from taskplatform.context import current_request_id
from taskplatform.exceptions import ApplicationError

log = logging.getLogger("taskplatform.errors")


# an ApplicationError's code -> its HTTP status (any other code is a 400)
STATUS_FOR_CODE: dict[str, int] = {
    "invalid_credentials": 401,
    "invalid_token": 401,
    "permission_denied": 403,
    "not_found": 404,
    "content_missing": 404,
    "conflict": 409,
    "file_too_large": 413,
    "quota_exceeded": 413,
    "unsupported_file_type": 415,
    "unsupported_media_type": 415,
    "storage_unavailable": 503,
}


def status_for(exc: ApplicationError) -> int:
    return STATUS_FOR_CODE.get(exc.code, 400)


# DRF exception class -> our stable code (the first match in MRO order wins)
_CODES: dict[type[Exception], str] = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_request",
    InvalidToken: "invalid_token",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


# Seconds a client is told to wait (Retry-After) when the database can't be reached
RETRY_AFTER_SECONDS = 5
_UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; try again shortly."


def database_unavailable(exc: BaseException | None) -> bool:
    """True for the errors of a database that can't be reached or answer right now
    (connection refused or lost, a server shutting down, a lock or statement timeout).

    Not IntegrityError, DataError or ProgrammingError: those are bad input or bugs, and
    not a bare DatabaseError, which Django raises itself (e.g. "Save with update_fields
    did not affect any rows").
    """
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    # should one escape Django's wrapper (every backend sets .Database; the base class doesn't say)
    driver = connections["default"].Database  # type: ignore[attr-defined]
    return isinstance(exc, (driver.OperationalError, driver.InterfaceError))


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": current_request_id() or None,
        }
    }


def _code_for(exc: exceptions.APIException) -> str:
    for klass in type(exc).__mro__:
        if klass in _CODES:
            return _CODES[klass]
    return exc.default_code if isinstance(exc.default_code, str) else "error"


def _field_details(detail: Any) -> dict[str, Any]:
    """Validation errors as {"field": ["message", ...]}; a bare list goes to non_field_errors."""
    if isinstance(detail, dict):
        return {str(k): v if isinstance(v, (list, dict)) else [v] for k, v in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def _message_for(exc: exceptions.APIException, code: str) -> str:
    if code == "validation_error":
        return "The request is invalid: see details."
    if isinstance(exc.detail, str):
        return str(exc.detail)
    if isinstance(exc.detail, dict) and isinstance(exc.detail.get("detail"), str):
        return str(exc.detail["detail"])
    return str(exc.default_detail)


_UNAUTHORIZED = {"invalid_token", "not_authenticated", "authentication_failed"}


def _from_api_exception(exc: exceptions.APIException) -> Response:
    code = _code_for(exc)
    details = _field_details(exc.detail) if code == "validation_error" else {}
    # DRF turns 401 into 403 on views without authenticators (login, refresh); a bad or
    # missing credential is a 401 everywhere here.
    status_code = 401 if code in _UNAUTHORIZED else exc.status_code
    response = Response(envelope(code, _message_for(exc, code), details), status=status_code)
    if status_code == 401:
        response["WWW-Authenticate"] = getattr(exc, "auth_header", None) or 'Bearer realm="api"'
    wait = getattr(exc, "wait", None)  # Throttled's seconds to wait
    if wait is not None:
        response["Retry-After"] = str(max(1, int(wait + 0.999)))
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception a view raises leaves as the envelope."""
    if isinstance(exc, ApplicationError):
        status_code = status_for(exc)
        response = Response(envelope(exc.code, exc.message, exc.details), status=status_code)
        if status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TokenError):
        exc = InvalidToken(str(exc))
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            envelope("request_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, UnreadablePostError):  # the client went away mid-body
        return Response(envelope("bad_request", "The request body could not be read."), status=400)
    elif isinstance(exc, SuspiciousOperation):
        return Response(envelope("bad_request", "The request was rejected."), status=400)
    elif database_unavailable(exc):
        log.error("database unavailable in %s: %s", type(context.get("view")).__name__, exc)
        return Response(
            envelope("service_unavailable", _UNAVAILABLE_MESSAGE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    if isinstance(exc, exceptions.APIException):
        return _from_api_exception(exc)

    log.exception("unhandled error in %s", type(context.get("view")).__name__)
    counters.server_error_counted()
    return Response(
        envelope("server_error", "Something went wrong on our side; it has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


# Django's own handlers, for errors raised outside DRF views (unknown URLs, middleware).
def _json(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(envelope(code, message), status=status_code)


# the web app's pages answer errors with a page, not the API's envelope
WEB_PREFIX = "/app/"


def _answer(request, code: str, message: str, status_code: int, heading: str):
    if request.path.startswith(WEB_PREFIX):
        context = {"heading": heading, "message": message}
        return render(request, "web/error.html", context, status=status_code)
    return _json(code, message, status_code)


def bad_request(request, exception=None):
    return _answer(request, "bad_request", "The request was rejected.", 400, "Bad request")


def permission_denied(request, exception=None):
    message = "You do not have permission to do this."
    return _answer(request, "permission_denied", message, 403, "Not allowed")


def page_not_found(request, exception=None):
    return _answer(request, "not_found", "Not found.", 404, "Not found")


def server_error(request):
    # Django calls this while handling the exception, from views outside DRF (the admin)
    # and from middleware (a session or user lookup): a database outage is a 503 there too.
    if database_unavailable(sys.exc_info()[1]):
        response = _json("service_unavailable", _UNAVAILABLE_MESSAGE, 503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    counters.server_error_counted()
    return _json("server_error", "Something went wrong on our side; it has been logged.", 500)
