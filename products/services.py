"""Writes of the catalog: categories, products, stock and reviews.

Every product or stock write drops the catalog caches after commit (products.cache).
"""

from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F

from c4ang.actors import Actor
from c4ang.db import save_fields
from products import cache, hooks, selectors
from products.constants import STOCK_MAX
from products.errors import (
    CategoryAlreadyExists,
    InsufficientStock,
    ProductNotFound,
    ReviewAlreadyExists,
    StockAboveMaximum,
)
from products.models import Category, Product, Review, StockAdjustment


def category_get_or_create(*, name: str, parent_name: str | None = None) -> Category:
    parent = category_get_or_create(name=parent_name) if parent_name else None
    category, _ = Category.objects.get_or_create(name=name, defaults={"parent": parent})
    return category


def category_create(*, name: str, parent_id: UUID | None = None) -> Category:
    parent = selectors.category_get(category_id=parent_id) if parent_id else None
    try:
        with transaction.atomic():
            return Category.objects.create(name=name, parent=parent)
    except IntegrityError:
        raise CategoryAlreadyExists(field="name") from None


@transaction.atomic
def product_create(*, name: str, category: Category, brand: str, price: Decimal, stock: int) -> Product:
    product = Product.objects.create(name=name, category=category, brand=brand, price=price, stock=stock)
    cache.invalidate_after_commit([product.pk])
    return product


@transaction.atomic
def product_update(*, product_id: UUID, **fields) -> Product:
    """Staff: change name, category, brand, price or is_active (stock moves through stock_adjust)."""
    product = selectors.product_get(product_id=product_id)
    save_fields(product, **fields)
    cache.invalidate_after_commit([product.pk])
    return product


def product_deactivate(*, product_id: UUID) -> Product:
    """Staff: take a product off sale; orders that hold it keep their lines."""
    return product_update(product_id=product_id, is_active=False)


@transaction.atomic
def stock_adjust(*, product_id: UUID, delta: int, reason: str, by: Actor) -> Product:
    """Staff: receive (+) or write off (-) stock, with the reason kept; never below zero, never
    above STOCK_MAX (the integer column would refuse it with a 500)."""
    rows = Product.objects.filter(pk=product_id)
    rows = rows.filter(stock__lte=STOCK_MAX - delta) if delta > 0 else rows.filter(stock__gte=-delta)
    if not rows.update(stock=F("stock") + delta):
        selectors.product_get(product_id=product_id)  # a missing product is a 404, not a stock problem
        if delta > 0:
            raise StockAboveMaximum(f"Stock cannot go above {STOCK_MAX:,} units.", field="delta")
        raise InsufficientStock("Stock cannot go below zero.", field="delta")
    product = selectors.product_get(product_id=product_id)
    StockAdjustment.objects.create(
        product=product, delta=delta, stock_after=product.stock, reason=reason, actor=str(by)
    )
    cache.invalidate_after_commit([product_id])
    return product


def stock_reserve(*, quantities: dict[UUID, int]) -> None:
    """Take stock for an order, all lines or none. Call inside the caller's transaction.

    Each line is a conditional decrement (`stock = stock - q WHERE stock >= q`): concurrent orders
    queue on the row and re-check, so stock never oversells. Rows are touched in primary-key order
    so that two multi-line orders cannot deadlock.
    """
    with transaction.atomic():
        for product_id in sorted(quantities):
            quantity = quantities[product_id]
            if not Product.objects.filter(pk=product_id, stock__gte=quantity).update(stock=F("stock") - quantity):
                raise InsufficientStock(f"Not enough stock of product {product_id}.", product_id=str(product_id))
    cache.invalidate_after_commit(quantities)


def stock_release(*, quantities: dict[UUID, int]) -> None:
    """Put an order's reserved stock back on the shelf. Call inside the caller's transaction."""
    for product_id in sorted(quantities):
        Product.objects.filter(pk=product_id).update(stock=F("stock") + quantities[product_id])
    cache.invalidate_after_commit(quantities)


def review_create(*, product_id: UUID, customer_id: UUID, rating: int, content: str) -> Review:
    """A customer's review of a product for sale: one per customer and product, flagged as a
    verified purchase when the customer has a paid order with it. Published at once (staff
    moderate afterwards)."""
    if not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise ProductNotFound()
    verified = hooks.customer_has_bought(customer_id=customer_id, product_id=product_id)
    try:
        with transaction.atomic():
            return Review.objects.create(
                product_id=product_id,
                customer_id=customer_id,
                rating=rating,
                content=content,
                is_verified_purchase=verified,
            )
    except IntegrityError:
        raise ReviewAlreadyExists(field="product") from None


@transaction.atomic
def product_bulk_import(*, products: list[dict], batch_size: int = 5000) -> list[Product]:
    """Create many products (name, category name, brand, price, stock) in few queries: demo data and imports."""
    categories = {name: category_get_or_create(name=name) for name in {product["category"] for product in products}}
    created = Product.objects.bulk_create(
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
    cache.invalidate_after_commit([])  # new products change the list pages; no detail is cached yet
    return created


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


def review_moderate(*, review_id: UUID, status: str) -> Review:
    """Staff: approve or reject a review; only approved ones are public and feed the sentiment job."""
    review = selectors.review_get(review_id=review_id)
    review.status = status
    review.save(update_fields=["status"])
    return review


def catalog_cache_invalidate(*, product_ids: list[UUID]) -> None:
    """After commit, drop the cached details of these products (e.g. their sentiment summary changed)."""
    cache.invalidate_after_commit(product_ids)
