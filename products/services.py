"""Writes of the catalog: categories, products, stock and reviews.

Every product or stock write drops the catalog caches after commit (products.cache).
"""

import uuid
from contextlib import nullcontext
from decimal import Decimal
from typing import IO
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Count, F, Max, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Concat, Substr
from django.utils.translation import gettext

from c4ang.actors import Actor
from c4ang.db import save_fields
from products import cache, hooks, images, selectors
from products.constants import STOCK_MAX
from products.errors import (
    CategoryAlreadyExists,
    CategoryCycle,
    CategoryNotFound,
    CategoryTooDeep,
    InsufficientStock,
    ProductImageLimitReached,
    ProductImageNotFound,
    ProductImagePrimaryRequired,
    ProductNotFound,
    ReviewAlreadyExists,
    StockAboveMaximum,
)
from products.models import Category, Product, ProductImage, Review, StockAdjustment


def category_get_or_create(*, name: str, parent_name: str | None = None) -> Category:
    """The category of this name, created (under `parent_name`'s, created too) when missing."""
    parent = category_get_or_create(name=parent_name) if parent_name else None
    if category := Category.objects.filter(name=name).first():
        return category
    try:
        with transaction.atomic():
            _category_tree_lock()
            return _category_insert(name=name, parent=parent)
    except IntegrityError:  # created meanwhile by another request
        return Category.objects.get(name=name)


def category_create(*, name: str, parent_id: UUID | None = None) -> Category:
    """Staff: a new category, a root or under `parent_id`, with its path and depth in the tree."""
    try:
        with transaction.atomic():
            _category_tree_lock()
            parent = _category_parent(parent_id) if parent_id else None
            return _category_insert(name=name, parent=parent)
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
            raise StockAboveMaximum(
                gettext("Stock cannot go above %(max)s units.") % {"max": f"{STOCK_MAX:,}"}, field="delta"
            )
        raise InsufficientStock(gettext("Stock cannot go below zero."), field="delta")
    product = selectors.product_get(product_id=product_id)
    StockAdjustment.objects.create(
        product=product, delta=delta, stock_after=product.stock, reason=reason, actor=str(by)
    )
    cache.invalidate_after_commit([product_id])
    return product


def stock_reserve(*, quantities: dict[UUID, int]) -> None:
    """Take stock for an order, all lines or none. Call inside the caller's transaction, as its last
    writes: each row stays locked from its update to the caller's COMMIT.

    Each line is a conditional decrement (`stock = stock - q WHERE stock >= q`): concurrent orders
    queue on the row and re-check, so stock never oversells. Rows are touched in primary-key order
    so that two multi-line orders cannot deadlock.
    """
    # One line is one statement, all or nothing by itself: no savepoint, whose release would be one
    # more round trip under the row lock.
    with transaction.atomic() if len(quantities) > 1 else nullcontext():
        # Recorded before the updates, not under their locks; a refusal's goes with the rolled-back transaction.
        cache.invalidate_after_commit(quantities)
        for product_id in sorted(quantities):
            quantity = quantities[product_id]
            if not Product.objects.filter(pk=product_id, stock__gte=quantity).update(stock=F("stock") - quantity):
                raise InsufficientStock(
                    gettext("Not enough stock of product %(product_id)s.") % {"product_id": product_id},
                    product_id=str(product_id),
                )


def stock_release(*, quantities: dict[UUID, int]) -> None:
    """Put an order's reserved stock back on the shelf. Call inside the caller's transaction, as its
    last writes (stock_reserve)."""
    cache.invalidate_after_commit(quantities)
    for product_id in sorted(quantities):
        Product.objects.filter(pk=product_id).update(stock=F("stock") + quantities[product_id])


def review_create(*, product_id: UUID, customer_id: UUID, rating: int, content: str) -> Review:
    """A customer's review of a product for sale: one per customer and product, flagged as a
    verified purchase when the customer has a paid order with it. Published at once (staff
    moderate afterwards): counted in the product's rating in the same transaction."""
    if not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise ProductNotFound()
    verified = hooks.customer_has_bought(customer_id=customer_id, product_id=product_id)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                product_id=product_id,
                customer_id=customer_id,
                rating=rating,
                content=content,
                is_verified_purchase=verified,
            )
            if review.status == Review.Status.APPROVED:
                _rating_count(review, sign=1)
            return review
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
    """Create many approved reviews (product_id, customer_id, rating, content), counted in their
    products' ratings; returns how many."""
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
    product_ratings_recount(product_ids={review["product_id"] for review in reviews})
    return len(created)


@transaction.atomic
def review_moderate(*, review_id: UUID, status: str) -> Review:
    """Staff: approve or reject a review; only approved ones are public, count in the product's
    rating and feed the sentiment job. The review's row is locked: two moderations of one review
    count it once."""
    review = selectors.review_get_for_update(review_id=review_id)
    was_approved = review.status == Review.Status.APPROVED
    review.status = status
    review.save(update_fields=["status"])
    if was_approved != (status == Review.Status.APPROVED):
        _rating_count(review, sign=-1 if was_approved else 1)
    return review


def _rating_count(review: Review, *, sign: int) -> None:
    """Count an approved review in its product's rating (sign 1), or stop counting it (-1)."""
    Product.objects.filter(pk=review.product_id).update(
        review_count=F("review_count") + sign, rating_total=F("rating_total") + sign * review.rating
    )
    cache.invalidate_after_commit([review.product_id])


@transaction.atomic
def product_ratings_recount(*, product_ids: set[UUID]) -> None:
    """Set these products' review count and rating total from their approved reviews (one UPDATE):
    for reviews written in bulk, or around these services."""
    approved = Review.objects.filter(product=OuterRef("pk"), status=Review.Status.APPROVED).order_by().values("product")
    Product.objects.filter(pk__in=product_ids).update(
        review_count=Coalesce(Subquery(approved.annotate(n=Count("id")).values("n")), 0),
        rating_total=Coalesce(Subquery(approved.annotate(total=Sum("rating")).values("total")), 0),
    )
    cache.invalidate_after_commit(product_ids)


def catalog_cache_invalidate(*, product_ids: list[UUID]) -> None:
    """After commit, drop the cached details of these products (e.g. their sentiment summary changed)."""
    cache.invalidate_after_commit(product_ids)


# --- images ---


def product_image_upload(*, product_id: UUID, image: IO[bytes], alt_text: str = "") -> ProductImage:
    """Staff: check an uploaded file by decoding it (products.images: JPEG, PNG or WebP, within the
    size and pixel limits, not animated) and add it, with its sizes, after the product's images."""
    selectors.product_get(product_id=product_id)  # an unknown product is a 404 before any decoding
    return product_image_add(product_id=product_id, processed=images.image_process(image), alt_text=alt_text)


def product_image_add(*, product_id: UUID, processed: images.ProcessedImage, alt_text: str = "") -> ProductImage:
    """Store an accepted image (images.image_process) as the product's last one; its first image is
    its primary. The files are written before the product's row is locked (no storage call under a
    lock) and removed again when the row is not created."""
    image_id = uuid.uuid4()
    original, variants = _image_files_store(image_id, processed)
    try:
        with transaction.atomic():
            selectors.product_get_for_update(product_id=product_id)  # one upload of a product at a time
            existing = list(selectors.product_image_list(product_id=product_id).only("id", "position"))
            if len(existing) >= settings.PRODUCT_IMAGES_MAX:
                raise ProductImageLimitReached(
                    gettext("A product has at most %(max)d images.") % {"max": settings.PRODUCT_IMAGES_MAX},
                    field="image",
                )
            image = ProductImage.objects.create(
                id=image_id,
                product_id=product_id,
                original=original,
                width=processed.original.width,
                height=processed.original.height,
                variants=variants,
                alt_text=alt_text,
                position=existing[-1].position + 1 if existing else 0,
                is_primary=not existing,
            )
            cache.invalidate_after_commit([product_id])
    except BaseException:
        _image_files_delete([original, *variants.values()])
        raise
    return image


@transaction.atomic
def product_image_update(
    *,
    product_id: UUID,
    image_id: UUID,
    alt_text: str | None = None,
    position: int | None = None,
    is_primary: bool | None = None,
) -> ProductImage:
    """Staff: change an image's alt text, move it to `position` (0 is first; the others keep their
    order and are numbered 0, 1, ... again), or make it the primary one (the former primary stops
    being it). An image stops being primary only when another one is made so."""
    selectors.product_get_for_update(product_id=product_id)
    image = selectors.product_image_get(product_id=product_id, image_id=image_id)
    if is_primary is False and image.is_primary:
        raise ProductImagePrimaryRequired(field="is_primary")
    if is_primary and not image.is_primary:
        # Unset first: the partial unique index allows one primary per product at every statement.
        ProductImage.objects.filter(product_id=product_id, is_primary=True).update(is_primary=False)
        image.is_primary = True
    if alt_text is not None:
        image.alt_text = alt_text
    image.save(update_fields=["alt_text", "is_primary"])
    if position is not None:
        others = [row for row in selectors.product_image_list(product_id=product_id) if row.pk != image.pk]
        others.insert(min(position, len(others)), image)
        _image_positions_renumber(others)
    cache.invalidate_after_commit([product_id])
    return image


@transaction.atomic
def product_image_reorder(*, product_id: UUID, image_ids: list[UUID]) -> list[ProductImage]:
    """Staff: put the product's images in this order (numbered 0, 1, ...); images not named follow
    in their current order. An id that is not one of the product's images is a 404 and moves nothing."""
    selectors.product_get_for_update(product_id=product_id)
    current = list(selectors.product_image_list(product_id=product_id))
    by_id = {image.pk: image for image in current}
    if any(image_id not in by_id for image_id in image_ids):
        raise ProductImageNotFound(field="image_ids")
    named = list(dict.fromkeys(image_ids))
    ordered = [by_id[image_id] for image_id in named] + [image for image in current if image.pk not in set(named)]
    _image_positions_renumber(ordered)
    cache.invalidate_after_commit([product_id])
    return ordered


def product_image_delete(*, product_id: UUID, image_id: UUID) -> None:
    """Staff: remove an image and, once that is committed, its files; when it was the primary one,
    the next image in order becomes primary."""
    with transaction.atomic():
        selectors.product_get_for_update(product_id=product_id)
        image = selectors.product_image_get(product_id=product_id, image_id=image_id)
        files = [image.original.name, *image.variants.values()]
        image.delete()
        remaining = list(selectors.product_image_list(product_id=product_id))
        if image.is_primary and remaining:
            remaining[0].is_primary = True
            remaining[0].save(update_fields=["is_primary"])
        _image_positions_renumber(remaining)
        cache.invalidate_after_commit([product_id])
        # After commit: a rolled-back delete keeps its files. A failed storage call is logged by Django.
        transaction.on_commit(lambda: _image_files_delete(files), robust=True)


def _image_files_store(image_id: UUID, processed: images.ProcessedImage) -> tuple[str, dict[str, str]]:
    """Write the original and the sizes through the storage API; their storage names."""
    field = ProductImage._meta.get_field("original")
    original = field.generate_filename(None, f"{image_id}.{processed.original.extension}")
    stored = [default_storage.save(original, ContentFile(processed.original.content))]
    try:
        for size, variant in processed.variants.items():
            name = f"products/variants/{image_id}/{size}.{variant.extension}"
            stored.append(default_storage.save(name, ContentFile(variant.content)))
    except BaseException:
        _image_files_delete(stored)
        raise
    return stored[0], dict(zip(processed.variants, stored[1:], strict=True))


def _image_files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _image_positions_renumber(ordered: list[ProductImage]) -> None:
    changed = [image for index, image in enumerate(ordered) if image.position != index]
    for index, image in enumerate(ordered):
        image.position = index
    if changed:
        ProductImage.objects.bulk_update(changed, ["position"])


# --- search ---

# Levels of the category tree: a level takes 37 characters of the path ("<uuid>/"), whose column holds 1,000.
CATEGORY_MAX_DEPTH = 10


def category_update(*, category_id: UUID, **fields) -> Category:
    """Staff: rename a category (`name`) and/or move it under another parent (`parent_id`; None: a
    root). A move rewrites the path and depth of its whole subtree in one UPDATE; moving it under
    itself or a descendant is refused (CategoryCycle), as is a tree deeper than CATEGORY_MAX_DEPTH."""
    try:
        with transaction.atomic():
            _category_tree_lock()
            category = selectors.category_get(category_id=category_id)
            moved = "parent_id" in fields and _category_move(category, fields["parent_id"])
            renamed = "name" in fields and fields["name"] != category.name
            if renamed:
                category.name = fields["name"]
                category.save(update_fields=["name"])
            if renamed or moved:
                # A rename changes the products' details; a move, which list pages a category filter finds.
                renamed_ids = Product.objects.filter(category_id=category_id).values_list("pk", flat=True)
                cache.invalidate_after_commit(list(renamed_ids) if renamed else [])
    except IntegrityError:
        raise CategoryAlreadyExists(field="name") from None
    category.refresh_from_db()
    return category


@transaction.atomic
def category_paths_rebuild() -> int:
    """Recompute every category's path and depth from the parents; returns how many changed. For
    categories written around these services (fixtures, SQL)."""
    _category_tree_lock()
    categories = list(Category.objects.only("id", "parent_id", "path", "depth"))
    children: dict[UUID | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    changed = []
    level = [(category, "/", 0) for category in children.get(None, [])]
    while level:
        following = []
        for category, parent_path, depth in level:
            path = f"{parent_path}{category.pk}/"
            if (category.path, category.depth) != (path, depth):
                category.path, category.depth = path, depth
                changed.append(category)
            following.extend((child, path, depth + 1) for child in children.get(category.pk, []))
        level = following
    Category.objects.bulk_update(changed, ["path", "depth"], batch_size=1000)
    return len(changed)


def _category_tree_lock() -> None:
    """Tree writes one at a time: a move rewrites its subtree's paths while a new child copies its
    parent's path, so they must not interleave. Reads and product writes are not blocked (the
    product's foreign key takes a row share lock, which this mode allows). SQLite has one writer."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Category._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def _category_too_deep() -> CategoryTooDeep:
    return CategoryTooDeep(
        gettext("The category tree is at most %(max)d levels deep.") % {"max": CATEGORY_MAX_DEPTH}, field="parent_id"
    )


def _category_parent(parent_id: UUID) -> Category:
    try:
        parent = selectors.category_get(category_id=parent_id)
    except CategoryNotFound:
        raise CategoryNotFound(field="parent_id") from None
    if not parent.path:
        category_paths_rebuild()
        parent.refresh_from_db()
    return parent


def _category_insert(*, name: str, parent: Category | None) -> Category:
    """A new category, its path from its parent's (the id is made here, so that one INSERT does)."""
    depth = parent.depth + 1 if parent else 0
    if depth >= CATEGORY_MAX_DEPTH:
        raise _category_too_deep()
    category_id = uuid.uuid4()
    path = f"{parent.path if parent else '/'}{category_id}/"
    return Category.objects.create(id=category_id, name=name, parent=parent, path=path, depth=depth)


def _category_move(category: Category, parent_id: UUID | None) -> bool:
    parent = _category_parent(parent_id) if parent_id else None
    if (parent.pk if parent else None) == category.parent_id:
        return False
    if not category.path:
        category_paths_rebuild()
        category.refresh_from_db()
    if parent is not None and parent.path.startswith(category.path):
        raise CategoryCycle(field="parent_id")
    subtree = Category.objects.filter(path__startswith=category.path)
    shift = (parent.depth + 1 if parent else 0) - category.depth
    if subtree.aggregate(deepest=Max("depth"))["deepest"] + shift >= CATEGORY_MAX_DEPTH:
        raise _category_too_deep()
    new_path = f"{parent.path if parent else '/'}{category.pk}/"
    subtree.update(
        path=Concat(Value(new_path), Substr("path", len(category.path) + 1), output_field=CharField()),
        depth=F("depth") + shift,
    )
    Category.objects.filter(pk=category.pk).update(parent=parent)
    return True
