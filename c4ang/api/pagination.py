from collections.abc import Callable

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Expression, ExpressionWrapper, IntegerField, QuerySet, Window
from django.utils.functional import cached_property
from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination


class BoundedPageSize:
    """`page_size` from 1 to API_MAX_PAGE_SIZE: a larger one is capped, one that is not a positive whole
    number is a 400 naming the parameter (DRF would silently answer a page of the default size)."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_description = (
        f"Items per page: 1 to {settings.API_MAX_PAGE_SIZE} (default {settings.REST_FRAMEWORK['PAGE_SIZE']}); "
        "more is capped there."
    )

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not (value.isascii() and value.isdigit() and int(value) > 0):
            message = gettext("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
            raise ValidationError({self.page_size_query_param: [message]})
        return min(int(value), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        for name, description in self.response_descriptions.items():
            # drf-spectacular also calls this with a placeholder for `results` (to build examples).
            if isinstance(properties[name], dict):
                properties[name] = {**properties[name], "description": description}
        for name, example in self.response_examples.items():
            properties[name] = {**properties[name], "example": example}
        return paginated


PAGE = "https://shop.example.com/api/v1/products/?page={}"
CURSOR = "https://shop.example.com/api/v1/orders/?cursor={}"


# The annotation of counted_with_page: every row carries the list's total.
PAGE_TOTAL = "page_total"


class _PageTotal(ExpressionWrapper):
    """The list's total on every row (COUNT(*) OVER (), or what the list's owner counts it with), and
    what counted_with_page says to take a page with, or to page instead of a list that counts fewer
    than `below` (kept as attributes: they are no part of the SQL)."""

    paged: Callable[[int, int], QuerySet] | None = None
    widened: Callable[[], QuerySet] | None = None
    below = 0


def counted_with_page(
    queryset: QuerySet,
    *,
    total: Expression | None = None,
    paged: Callable[[int, int], QuerySet] | None = None,
    widened: Callable[[], QuerySet] | None = None,
    below: int = 0,
) -> QuerySet:
    """The queryset with its total on every row, which the paginator reads off the page: one query
    instead of a count and a page. By default `COUNT(*) OVER ()`, only for lists whose page query
    reads every match anyway (a ranked search): an index-ordered list would read all its rows for it
    instead of stopping after the page. Or `total`, an expression the database computes once for the
    query (a scalar subquery of an index that counts the same rows as the list, or a column of a
    subquery that counts them before its LIMIT).

    With `paged`: what gives the rows from `bottom` to `top` of the list (each with the total), for a
    list the database pages fastest with the bounds inside the query (a ranked subquery that limits
    before a join), instead of a slice of the queryset.

    With `widened`: what builds the list (counted_with_page) that is paged instead when this one
    counts fewer than `below` (a search that finds little looks further), decided from the page's
    count, so that a list that counts enough costs no query beforehand, and no building of the wider
    one (a search's typo conditions take longer to build than its page takes to run)."""
    total = _PageTotal(Window(Count("*")) if total is None else total, output_field=IntegerField())
    total.paged, total.widened, total.below = paged, widened, below
    return queryset.annotate(**{PAGE_TOTAL: total})


class PageCountedPaginator(Paginator):
    """Django's Paginator, taking the count off the page's rows when the list carries it
    (counted_with_page), and paging the widened list instead when it counts too few; for an empty
    page past the first it counts, as Django's does."""

    def page(self, number):
        try:
            bottom = (int(number) - 1) * self.per_page
        except (TypeError, ValueError):
            bottom = -1  # not a page number: Django's error says so
        total = self._page_total()
        if total is None or bottom < 0:
            return super().page(number)
        rows, count = self._counted_page(bottom)
        if total.widened is not None and count < total.below:
            self.object_list = total.widened()
            rows, count = self._counted_page(bottom)
        self.count = count
        return self._get_page(rows, self.validate_number(number), self)  # past the end: EmptyPage (a 404)

    @cached_property
    def count(self) -> int:
        """Django's count; of the widened list when this one counts too few (asked before the page
        only for `page=last`)."""
        total = self._page_total()
        count = super().count
        if total is not None and total.widened is not None and count < total.below:
            self.object_list = total.widened()
            count = self.object_list.count()
        return count

    def _page_total(self) -> _PageTotal | None:
        total = getattr(getattr(self.object_list, "query", None), "annotations", {}).get(PAGE_TOTAL)
        return total if isinstance(total, _PageTotal) else None

    def _counted_page(self, bottom: int) -> tuple[list, int]:
        paged = self._page_total().paged
        top = bottom + self.per_page
        rows = list(self.object_list[bottom:top] if paged is None else paged(bottom, top))
        if rows:
            return rows, getattr(rows[0], PAGE_TOTAL)
        return rows, self.object_list.count() if bottom else 0  # past the end, or nothing: count which


class BoundedPageNumberPagination(BoundedPageSize, PageNumberPagination):
    django_paginator_class = PageCountedPaginator
    page_query_description = "The page, from 1; past the last one is a 404."
    response_descriptions = {
        "count": "How many items the whole list has (every page), with the filters given.",
        "next": "The next page's URL (the same query); null on the last page.",
        "previous": "The previous page's URL; null on the first.",
        "results": "This page's items, in the list's order.",
    }
    # Page 2 of 3: DRF leaves `page` out of the first page's link.
    response_examples = {"count": 57, "next": PAGE.format(3), "previous": PAGE.removesuffix("?page={}")}


class BoundedCursorPagination(BoundedPageSize, CursorPagination):
    """For hot, append-mostly lists: stable under concurrent inserts and O(1) per page."""

    ordering = "-created_at"
    cursor_query_description = "Where the page starts: take it from a `next` or `previous` link, never build one."
    response_descriptions = {
        "next": "The next page's URL, with its cursor; null on the last page.",
        "previous": "The previous page's URL; null on the first.",
        "results": "This page's items, in the list's order.",
    }
    response_examples = {"next": CURSOR.format("cD0yMDI2LTEyLTAx"), "previous": None}
