from uuid import UUID

import django_filters
from django import forms
from django.utils.translation import gettext

from products import search, selectors
from products.models import Product


class ProductSearchField(forms.CharField):
    """The search text parsed into its words (products.search.search_parse): a ProductSearch, or None
    when blank. A text it refuses is a 400 naming `search` with the refusal's code."""

    def __init__(self, **kwargs):
        super().__init__(max_length=search.MAX_LENGTH, **kwargs)

    def clean(self, value) -> search.ProductSearch | None:
        text = super().clean(value)  # stripped; NUL and over-long text refused with Django's codes
        try:
            return search.search_parse(text)
        except search.SearchRejected as rejected:
            raise forms.ValidationError(rejected.message, code=rejected.code) from None


class ProductSearchFilter(django_filters.CharFilter):
    field_class = ProductSearchField

    def filter(self, qs, value):
        return qs if value is None else selectors.product_search(products=qs, search=value)


# At most this many ids in one `ids=`: a page of the largest size, and a URL that stays under the
# 4 KiB request line that servers take (100 ids of 36 characters and their commas).
IDS_MAX = 100


class ProductIdsField(forms.CharField):
    """Comma-separated product ids: a list of UUIDs (repeats dropped, first place kept), or None
    when blank. More than IDS_MAX, or one that is not a UUID, is a 400 naming `ids`."""

    def clean(self, value) -> list[UUID] | None:
        text = super().clean(value)
        if not text:
            return None
        parts = [part.strip() for part in text.split(",")]
        if len(parts) > IDS_MAX:
            raise forms.ValidationError(
                gettext("At most %(max)d ids, not %(count)d."),
                code="too_many_ids",
                params={"max": IDS_MAX, "count": len(parts)},
            )
        ids, malformed = [], []
        for part in parts:
            try:
                ids.append(UUID(part))
            except ValueError:
                # As a parameter: django-filter applies `message % params`, and the text may hold a %.
                malformed.append(
                    forms.ValidationError(
                        gettext("%(id)r is not a product id (a UUID)."), code="invalid", params={"id": part}
                    )
                )
        if malformed:
            raise forms.ValidationError(malformed)
        return list(dict.fromkeys(ids))


class ProductIdsFilter(django_filters.CharFilter):
    field_class = ProductIdsField

    def filter(self, qs, value):
        return qs if value is None else selectors.products_in_given_order(products=qs, product_ids=value)


class ProductFilter(django_filters.FilterSet):
    category = django_filters.UUIDFilter(
        method="filter_category", help_text="A category: its products and those of its descendants."
    )
    brand = django_filters.CharFilter(
        field_name="brand",
        lookup_expr="iexact",
        help_text="A brand, as GET /api/v1/products/brands/ names it (case does not matter), e.g. 삼성.",
    )
    min_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", help_text="Whole won: products priced at least this, e.g. 10000."
    )
    max_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", help_text="Whole won: products priced at most this, e.g. 150000."
    )
    search = ProductSearchFilter(
        help_text=(
            "Words found in the name or the brand, or starting a word of the category's name or an ancestor's; a "
            "word of 3+ letters also with one letter wrong while the words as typed find less than a page. "
            "Ranked: exact name, name starting with it, name with every word, brand or category, typo; ties by id "
            "(unless `ordering` is given). 1 to 100 characters: one Hangul syllable, or 2 characters or more; at "
            "most 10 words."
        )
    )
    ids = ProductIdsFilter(
        help_text=(
            f"Batch lookup: up to {IDS_MAX} product ids, comma-separated (e.g. a cart's or a wish list's). Answers "
            "those that are for sale, in the order given (unless `ordering` is given); an id not for sale or unknown "
            "is left out, a repeated one answered once. Pages like every list: give `page_size` up to 100 for one "
            "page. More ids, or one that is not a UUID, is a 400 naming `ids`."
        )
    )
    ordering = django_filters.OrderingFilter(
        fields=["price", "created_at", "name"],
        help_text="Sort by price, created_at or name; a leading - for descending (-price). Default: newest first.",
    )

    class Meta:
        model = Product
        fields = ["category", "brand", "min_price", "max_price", "search", "ids"]

    def filter_queryset(self, queryset):
        # In this order: `ids` puts the products in its order, `ordering` overrides it, and `search`
        # comes last: it ranks what is not ordered already, and its list is paged as it is (widened to
        # typos by the paginator when it finds little: selectors.product_search).
        values = self.form.cleaned_data
        for name in [name for name in values if name != "search"] + ["search"]:
            queryset = self.filters[name].filter(queryset, values[name])
        return queryset

    def filter_category(self, queryset, name, value):
        return selectors.product_in_category(products=queryset, category_id=value)
