"""View shapes shared by the modules' APIs."""

from collections.abc import Callable

from django.http import HttpResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from c4ang import metrics
from c4ang.api.throttling import AnonRateThrottle
from c4ang.cache import CachedBody, count_and_get, read, uncount
from c4ang.errors import DomainError


class UnknownQueryParameter(DomainError):
    code = "unknown_parameter"
    message = _("The list does not take this query parameter.")


class ListApi(generics.ListAPIView):
    """A list endpoint: a GET with a query parameter it does not know is a 400 `unknown_parameter`
    naming each one, so that a misspelt filter (`?colour=`, `?sort=`) is not silently ignored with
    the whole list answered. It knows its pagination's parameters and its filters (a django-filter
    `filterset_class`'s, a FilteredListApi's `FilterSerializer`'s): what the OpenAPI schema documents.
    Checked after authentication, permissions and throttling, before anything is read."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            known = self.known_query_parameters()
            unknown = [name for name in request.query_params if name not in known]
            if unknown:
                raise query_parameters_unknown(unknown, known=known)

    def known_query_parameters(self) -> set[str]:
        known = set()
        if self.paginator is not None:
            known |= {parameter["name"] for parameter in self.paginator.get_schema_operation_parameters(self)}
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        return known


def query_parameters_unknown(unknown: list[str], *, known: set[str]) -> UnknownQueryParameter:
    names = {"unknown": ", ".join(unknown), "known": ", ".join(sorted(known))}
    if known:
        message = ngettext(
            "Unknown query parameter: %(unknown)s; it takes %(known)s.",
            "Unknown query parameters: %(unknown)s; it takes %(known)s.",
            len(unknown),
        )
        each = gettext("Not a parameter of this list; it takes %(known)s.")
    else:
        message = ngettext(
            "Unknown query parameter: %(unknown)s; it takes none.",
            "Unknown query parameters: %(unknown)s; it takes none.",
            len(unknown),
        )
        each = gettext("Not a parameter of this list; it takes none.")
    return UnknownQueryParameter(
        message % names,
        errors=[{"field": name, "code": UnknownQueryParameter.code, "message": each % names} for name in unknown],
    )


class FilteredListApi(ListApi):
    """A list whose query parameters are validated by the view's `FilterSerializer` and handed, as
    keyword arguments, to its `selector`; the OpenAPI schema documents them (c4ang.api.schema)."""

    FilterSerializer: type[serializers.Serializer]
    selector: staticmethod

    def known_query_parameters(self) -> set[str]:
        return super().known_query_parameters() | set(self.FilterSerializer().fields)

    def get_queryset(self):
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return self.selector(**filters.validated_data)


class CachedPublicReadApi(APIView):
    """A public GET whose rendered body is cached: `cached_body` says where, `build` makes the data
    on a miss.

    An anonymous request (no Authorization header: the API signs in by nothing else) is answered
    before DRF builds its request, with one cache round trip that counts it for the anonymous rate
    limit and reads the body: on the busiest endpoints DRF's machinery and a second round trip were
    a third of the cost. Anything else (a signed-in client, a miss, a refused request) goes through
    DRF like any view and is counted there, once."""

    permission_classes = [AllowAny]
    # Given by each view, called with the request and the URL's keyword arguments.
    cached_body: Callable[..., CachedBody]
    build: Callable[..., dict]

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and "HTTP_AUTHORIZATION" not in request.META:
            throttle = AnonRateThrottle()
            counter = throttle.window(throttle.client_key(request))
            entry = self.cached_body(request, **kwargs)
            count, values = count_and_get(counter, throttle.duration, entry.keys)
            body = entry.current(values)
            if body is not None and throttle.allows(count):
                metrics.cache_read(entry.area, hits=1)
                return json_response(body)
            if count is not None:
                uncount(counter)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, **kwargs):
        entry = self.cached_body(request, **kwargs)
        values = read(entry.keys)
        body = entry.current(values)
        # Counted here, once per read served: the fast path above counts only the hits it answers.
        metrics.cache_read(entry.area, hits=body is not None, misses=body is None)
        if body is None:
            body = JSONRenderer().render(self.build(request, **kwargs))
            entry.store(values, body)
        return json_response(body)


def json_response(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/json")
