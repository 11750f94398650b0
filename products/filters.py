import django_filters

from products.models import Product


class ProductFilter(django_filters.FilterSet):
    category = django_filters.UUIDFilter(field_name="category_id")
    brand = django_filters.CharFilter(field_name="brand", lookup_expr="iexact")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)
    ordering = django_filters.OrderingFilter(fields=["price", "created_at", "name"])

    class Meta:
        model = Product
        fields = ["category", "brand", "min_price", "max_price", "search"]
