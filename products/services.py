"""Writes of the catalog: categories, products and reviews."""

from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction

from products.errors import ReviewAlreadyExists
from products.models import Category, Product, Review


def category_get_or_create(*, name: str, parent_name: str | None = None) -> Category:
    parent = category_get_or_create(name=parent_name) if parent_name else None
    category, _ = Category.objects.get_or_create(name=name, defaults={"parent": parent})
    return category


@transaction.atomic
def product_create(*, name: str, category: Category, brand: str, price: Decimal, stock: int) -> Product:
    return Product.objects.create(name=name, category=category, brand=brand, price=price, stock=stock)


def review_create(
    *, product_id: UUID, customer_id: UUID, rating: int, content: str, is_verified_purchase: bool = False
) -> Review:
    try:
        with transaction.atomic():
            return Review.objects.create(
                product_id=product_id,
                customer_id=customer_id,
                rating=rating,
                content=content,
                is_verified_purchase=is_verified_purchase,
            )
    except IntegrityError:
        raise ReviewAlreadyExists(field="product") from None


@transaction.atomic
def product_bulk_import(*, products: list[dict], batch_size: int = 5000) -> list[Product]:
    """Create many products (name, category name, brand, price, stock) in few queries: demo data and imports."""
    categories = {name: category_get_or_create(name=name) for name in {product["category"] for product in products}}
    return Product.objects.bulk_create(
        [
            Product(
                name=product["name"],
                category=categories[product["category"]],
                brand=product["brand"],
                price=product["price"],
                stock=product["stock"],
            )
            for product in products
        ],
        batch_size=batch_size,
    )


@transaction.atomic
def review_bulk_import(*, reviews: list[dict], batch_size: int = 5000) -> int:
    """Create many approved reviews (product_id, customer_id, rating, content); returns how many."""
    created = Review.objects.bulk_create(
        [
            Review(
                product_id=review["product_id"],
                customer_id=review["customer_id"],
                rating=review["rating"],
                content=review["content"],
                status=Review.Status.APPROVED,
            )
            for review in reviews
        ],
        batch_size=batch_size,
    )
    return len(created)
