from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination


class BoundedPageSize:
    """`page_size` from 1 to API_MAX_PAGE_SIZE: a larger one is capped, one that is not a positive whole
    number is a 400 naming the parameter (DRF would silently answer a page of the default size)."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not (value.isascii() and value.isdigit() and int(value) > 0):
            message = f"Give a whole number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]})
        return min(int(value), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters


class BoundedPageNumberPagination(BoundedPageSize, PageNumberPagination):
    pass


class BoundedCursorPagination(BoundedPageSize, CursorPagination):
    """For hot, append-mostly lists: stable under concurrent inserts and O(1) per page."""

    ordering = "-created_at"
