import django_filters
from django import forms

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


class ProductFilter(django_filters.FilterSet):
    category = django_filters.UUIDFilter(
        method="filter_category", help_text="A category: its products and those of its descendants."
    )
    brand = django_filters.CharFilter(field_name="brand", lookup_expr="iexact")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    search = ProductSearchFilter(
        help_text=(
            "Words found in the name or the brand, or starting a word of the category's name or an ancestor's; a "
            "word of 3+ letters also with one letter wrong while the words as typed find less than a page. "
            "Ranked: exact name, name starting with it, name with every word, brand or category, typo; ties by id "
            "(unless `ordering` is given). 1 to 100 characters: one Hangul syllable, or 2 characters or more; at "
            "most 10 words."
        )
    )
    ordering = django_filters.OrderingFilter(fields=["price", "created_at", "name"])

    class Meta:
        model = Product
        fields = ["category", "brand", "min_price", "max_price", "search"]

    def filter_category(self, queryset, name, value):
        return selectors.product_in_category(products=queryset, category_id=value)
