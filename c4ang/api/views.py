"""View shapes shared by the modules' APIs."""

from rest_framework import generics, serializers


class FilteredListApi(generics.ListAPIView):
    """A list whose query parameters are validated by the view's `FilterSerializer` and handed, as
    keyword arguments, to its `selector`; the OpenAPI schema documents them (c4ang.api.schema)."""

    FilterSerializer: type[serializers.Serializer]
    selector: staticmethod

    def get_queryset(self):
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return self.selector(**filters.validated_data)
