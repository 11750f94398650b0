"""The OpenAPI schema of the API (drf-spectacular).

Component names for serializers declared inside a view (`OrderCancelApi.InputSerializer`) are named
after their view (`OrderCancelInput`), so that every view may call its own `InputSerializer`.

Every operation documents the errors the shared machinery can answer it with, in the one error shape
of c4ang.api.errors: what the view's authentication, permissions, throttles, parameters and body
make possible, and 503 when the database cannot be reached. Views add the domain errors their services
raise: `extend_schema(responses={200: ..., **domain_errors(OrderNotCancellable)})`."""

from collections import defaultdict

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework_simplejwt.views import TokenViewBase

from c4ang.api.views import FilteredListApi
from c4ang.errors import DomainError


class ErrorDetailSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="Dotted path into the request; null for the whole request."
    )
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable and stable, e.g. validation_error, not_found.")
    message = serializers.CharField()
    errors = ErrorDetailSerializer(many=True)


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
    for error in errors:
        by_status[error.http_status].append(f"`{error.code}`: {error.message}")
    return {
        status: OpenApiResponse(ErrorSerializer, description=" ".join(lines)) for status, lines in by_status.items()
    }


RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}


class ViewScopedAutoSchema(AutoSchema):
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
