"""The OpenAPI schema of the API (drf-spectacular).

Component names for serializers declared inside a view (`OrderCancelApi.InputSerializer`) are named
after their view (`OrderCancelInput`), so that every view may call its own `InputSerializer`.

Every operation documents the errors the shared machinery can answer it with, in the one error shape
of c4ang.api.errors: what the view's authentication, permissions, throttles, parameters and body
make possible, and 503 when the database cannot be reached. Views add the domain errors their services
raise: `extend_schema(responses={200: ..., **domain_errors(OrderNotCancellable)})`."""

from collections import defaultdict

from django.utils import translation
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework_simplejwt.views import TokenViewBase

from c4ang.api.views import FilteredListApi
from c4ang.errors import DomainError


class ErrorDetailSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text="Dotted path into the request (items.0.quantity, or a header's or query parameter's name); "
        "null for the request as a whole.",
    )
    code = serializers.CharField(
        help_text="Why, machine-readable: a validation code (required, min_value, invalid, not_whole_won, ...), "
        "a domain error's code, or, on a declined payment's 402, the PG's own code (e.g. REJECT_CARD_COMPANY)."
    )
    message = serializers.CharField(help_text="The same for a person, in the language of the request.")
    product_id = serializers.UUIDField(
        required=False, help_text="insufficient_stock, product_unavailable: the product the entry is about."
    )
    product_name = serializers.CharField(required=False, help_text="That product's name, e.g. 무선 이어폰 프로.")
    available = serializers.IntegerField(
        required=False, min_value=0, help_text="insufficient_stock: the units in stock now."
    )


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable and stable in every language: what went wrong (the values listed; each "
        "operation's responses say which it may answer)."
    )
    message = serializers.CharField(help_text="The same for a person, in the language of the request.")
    errors = ErrorDetailSerializer(
        many=True, help_text="Each offending field, or each thing the error is about; empty when none is named."
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input (`validation_error`, `parse_error`): `errors` names each offending field.",
    401: "Not signed in, or the token is not valid (`not_authenticated`, `token_not_valid`, ...).",
    403: "Signed in, but not allowed (`permission_denied`).",
    404: "No such object, or not the caller's (`not_found`, `..._not_found`).",
    429: "Too many requests (`throttled`); retry after `Retry-After` seconds.",
    503: "The database is unavailable (`service_unavailable`); retry after `Retry-After` seconds.",
}


def domain_errors(*errors: type[DomainError]) -> dict[int, OpenApiResponse]:
    """The responses of the domain errors a view may answer with, by status, naming each code."""
    by_status = defaultdict(list)
    # The schema is the developers' reference, in English; the messages themselves follow each request.
    with translation.override("en"):
        for error in errors:
            by_status[error.http_status].append(f"`{error.code}`: {error.message}")
    return {
        status: OpenApiResponse(ErrorSerializer, description=" ".join(lines)) for status, lines in by_status.items()
    }


RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}


# The error codes of the API beside the domain errors' own: DRF's, simplejwt's and the error pages'.
GENERIC_ERROR_CODES = (
    "authentication_failed",
    "bad_request",
    "method_not_allowed",
    "no_active_account",
    "not_acceptable",
    "not_authenticated",
    "not_found",
    "parse_error",
    "permission_denied",
    "server_error",
    "service_unavailable",
    "throttled",
    "token_not_valid",
    "unsupported_media_type",
    "user_inactive",
    "user_not_found",
    "validation_error",
)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def api_error_codes() -> list[str]:
    """Every top-level `code` the API answers: the generic ones, every domain error's and those of
    the API's own exceptions (DRF's APIException subclasses in the apps)."""
    codes = set(GENERIC_ERROR_CODES)
    codes |= {error.code for error in _subclasses(DomainError)}
    codes |= {
        exc.default_code
        for exc in _subclasses(exceptions.APIException)
        if not exc.__module__.startswith("rest_framework")
    }
    return sorted(codes)


def document_error_codes(result, generator, request, public):
    """Postprocessing hook: the errors' `code` is an enum of every code (known once all apps loaded)."""
    error = result.get("components", {}).get("schemas", {}).get("Error")
    if error:
        error["properties"]["code"]["enum"] = api_error_codes()
    return result


def tag_of(path: str) -> str:
    """One tag per module and audience: `orders` for customers (and the public), `orders-staff` for
    staff (the saga tracker is staff's only), `payments-webhooks` for the PG's deliveries."""
    module = path.removeprefix("/api/v1/").split("/", 1)[0]
    if "/staff/" in path or module == "saga":
        return f"{module}-staff"
    if "/webhooks/" in path:
        return f"{module}-webhooks"
    return module


class ViewScopedAutoSchema(AutoSchema):
    def get_tags(self):
        return [tag_of(self.path)]

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        outer = type(serializer).__qualname__.split(".")[:-1]
        if not outer:
            return name
        return "".join(part.removesuffix("Api").removesuffix("Serializer") for part in outer) + name

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if isinstance(self.view, FilteredListApi) and self.method == "GET":
            return [self.view.FilterSerializer, *parameters]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            code = str(status)
            if code in responses:
                # The view named domain errors of this status: they come on top of the generic ones.
                responses[code]["description"] = f"{ERROR_DESCRIPTIONS[status]} {responses[code]['description']}"
            else:
                error = OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
                responses[code] = self._get_response_for_code(error, code, direction=direction)
            if status in (429, 503):
                responses[code]["headers"] = RETRY_AFTER
        return responses

    def _error_statuses(self) -> list[int]:
        view = self.view
        permissions = view.get_permissions()
        signed_in_only = not all(isinstance(permission, AllowAny) for permission in permissions)
        statuses = []
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            statuses.append(400)
        if view.get_authenticators() or isinstance(view, TokenViewBase):
            statuses.append(401)
        if any(not isinstance(permission, (AllowAny, IsAuthenticated)) for permission in permissions):
            statuses.append(403)
        # A signed-in actor's own profile may be missing (staff have none), a cursor or page may not exist.
        if "{" in self.path or signed_in_only or (self._is_list_view() and self._get_paginator()):
            statuses.append(404)
        if view.get_throttles():
            statuses.append(429)
        statuses.append(503)
        return statuses
