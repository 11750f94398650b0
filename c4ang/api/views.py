"""View shapes shared by the modules' APIs."""

from collections.abc import Callable

from django.http import HttpResponse
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from c4ang import metrics
from c4ang.api.throttling import AnonRateThrottle
from c4ang.cache import CachedBody, count_and_get, read, uncount


class FilteredListApi(generics.ListAPIView):
    """A list whose query parameters are validated by the view's `FilterSerializer` and handed, as
    keyword arguments, to its `selector`; the OpenAPI schema documents them (c4ang.api.schema)."""

    FilterSerializer: type[serializers.Serializer]
    selector: staticmethod

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
