"""OpenAPI component names for serializers declared inside a view (`OrderCancelApi.InputSerializer`):
named after their view (`OrderCancelInput`), so that every view may call its own `InputSerializer`."""

from drf_spectacular.openapi import AutoSchema

from c4ang.api.views import FilteredListApi


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
