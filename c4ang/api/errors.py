"""One error shape for the whole API.

    {"code": "validation_error", "message": "Invalid input.",
     "errors": [{"field": "items.0.quantity", "code": "min_value", "message": "..."}]}

`code` is machine-readable and stable; `errors` names each offending field (dotted path into the
request body; null for errors about the request as a whole).
"""

import sys

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from c4ang import metrics
from c4ang.errors import DomainError

_TOP_LEVEL_CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.NotFound: "not_found",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}
# Keys of DRF's error details that are about the request as a whole. A ValidationError's keys are
# the serializer's fields, and one of them may be named `detail` (an address's detail line).
_NON_FIELD_KEYS = frozenset({"non_field_errors", "detail"})
_VALIDATION_NON_FIELD_KEYS = frozenset({"non_field_errors"})


def error_body(code: str, message: str, errors: list[dict] | None = None) -> dict:
    return {"code": code, "message": message, "errors": errors or []}


def _is_leaf(details) -> bool:
    return isinstance(details, dict) and set(details) == {"message", "code"}


def _flatten(details, path: str | None = None, non_field_keys: frozenset = _NON_FIELD_KEYS) -> list[dict]:
    """Turn DRF's nested error details (get_full_details) into a flat list of {field, code, message}."""
    if _is_leaf(details):
        return [{"field": path, "code": details["code"], "message": str(details["message"])}]
    if isinstance(details, dict):
        flat = []
        for key, value in details.items():
            child = path if key in non_field_keys else (f"{path}.{key}" if path else str(key))
            flat.extend(_flatten(value, child, non_field_keys))
        return flat
    if isinstance(details, list):
        flat = []
        for index, value in enumerate(details):
            # A list of errors belongs to one field; anything else is a list of nested objects.
            child = path if _is_leaf(value) or path is None else f"{path}.{index}"
            flat.extend(_flatten(value, child, non_field_keys))
        return flat
    return [{"field": path, "code": getattr(details, "code", "invalid"), "message": str(details)}]


def _api_exception_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc.detail, dict) and {"detail", "code"} <= set(exc.detail):
        # simplejwt's errors ({"detail", "code", "messages"}) are about the token, not a request field.
        return error_body(str(exc.detail["code"]), str(exc.detail["detail"]))
    validation = isinstance(exc, exceptions.ValidationError)
    errors = _flatten(
        exc.get_full_details(), non_field_keys=_VALIDATION_NON_FIELD_KEYS if validation else _NON_FIELD_KEYS
    )
    code = next((c for cls, c in _TOP_LEVEL_CODES.items() if isinstance(exc, cls)), None)
    if code is None:
        # Authentication errors (ours and simplejwt's) carry their own specific code.
        code = errors[0]["code"] if len(errors) == 1 else exc.default_code
    if validation:
        message = gettext("Invalid input.")
    elif errors:
        message = errors[0]["message"]
    else:
        message = str(exc.detail)
    if all(error["field"] is None for error in errors) and not validation:
        errors = []
    return error_body(code, message, errors)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        if exc.errors is not None:
            errors = exc.errors
        else:
            errors = [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else []
        return Response(error_body(exc.code, exc.message, errors), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(_api_exception_body(exc), status=exc.status_code, headers=headers)


def page_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", gettext("Not found.")), status=status.HTTP_404_NOT_FOUND)


# How long a client should wait before retrying a request the database could not serve.
DATABASE_RETRY_AFTER_S = 5


def server_error(request):
    """Django's handler500: every uncaught exception, of a DRF view or of any other path, ends here
    (already logged). A database that cannot be reached (the connection refused or dropped, a
    failover) is a 503 the client may retry; the transaction in flight was rolled back with it."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        metrics.DB_CONNECTION_ERRORS.labels(source="request").inc()
        response = JsonResponse(
            error_body("service_unavailable", gettext("The database is unavailable; retry shortly.")),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
        return response
    return JsonResponse(
        error_body("server_error", gettext("An unexpected error occurred; it has been logged.")),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def bad_request(request, exception=None):
    return JsonResponse(error_body("bad_request", gettext("Bad request.")), status=status.HTTP_400_BAD_REQUEST)
