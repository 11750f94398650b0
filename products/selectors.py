"""Reads of the catalog: other modules look products up here."""

from uuid import UUID

from django.db.models import QuerySet

from products.errors import ProductNotFound
from products.models import Product


def product_list_public() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("category")


def product_get_public(*, product_id: UUID) -> Product:
    try:
        return product_list_public().get(pk=product_id)
    except Product.DoesNotExist:
        raise ProductNotFound() from None
