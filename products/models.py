import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from c4ang.money import NOT_WHOLE_WON, validate_whole_won, whole_won
from products.constants import ReviewStatus


class Category(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="category_id")
    name = models.CharField(pgettext_lazy("category", "name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent category"),
    )
    # The ids from the root down to this category, "/<root id>/…/<own id>/": a category's descendants
    # are the categories whose path starts with its own (one indexed query), depth 0 for a root.
    path = models.CharField(_("path"), max_length=1000, blank=True, db_index=True)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0)

    class Meta:
        db_table = "categories"
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="product_id")
    name = models.CharField(pgettext_lazy("product", "name"), max_length=200)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    brand = models.CharField(_("brand"), max_length=100)
    # Whole won.
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, validators=[validate_whole_won])
    stock = models.IntegerField(_("stock"), default=0)
    is_active = models.BooleanField(_("for sale"), default=True)
    # The approved reviews, kept by the review services in the review's own transaction (F() updates):
    # the list shows ratings without counting reviews per page. A database default too, for rows
    # written around the ORM (COPY of the benchmarks).
    review_count = models.PositiveIntegerField(_("review count"), default=0, db_default=0)
    rating_total = models.PositiveIntegerField(_("rating total"), default=0, db_default=0)  # the sum of their ratings
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "products"
        ordering = ["-created_at"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="products_stock_non_negative"),
            # Every rating is 1 to 5.
            models.CheckConstraint(
                condition=Q(rating_total__gte=F("review_count"), rating_total__lte=F("review_count") * 5),
                name="products_rating_total_in_range",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="products_price_non_negative"),
            models.CheckConstraint(
                condition=whole_won("price"),
                name="products_price_whole_won",
                violation_error_code=NOT_WHOLE_WON,
                violation_error_message=_("KRW has no minor unit: a price is a whole number of won."),
            ),
        ]
        indexes = [
            models.Index(fields=["category", "is_active"], name="products_category_active_idx"),
            models.Index(fields=["brand"], name="products_brand_idx"),
            models.Index(fields=["price"], name="products_price_idx"),
            models.Index(fields=["created_at"], name="products_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rating_average(self) -> Decimal | None:
        """The mean of the approved reviews' ratings to one decimal (half up), None without any."""
        if not self.review_count:
            return None
        return (Decimal(self.rating_total) / self.review_count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class Review(models.Model):
    Status = ReviewStatus

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="review_id")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("product"))
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    content = models.TextField(pgettext_lazy("review", "content"), max_length=2000)
    is_verified_purchase = models.BooleanField(_("verified purchase"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.APPROVED)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "reviews"
        ordering = ["-created_at"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="reviews_rating_1_to_5"),
            models.UniqueConstraint(fields=["product", "customer"], name="reviews_one_per_customer_per_product"),
        ]
        indexes = [
            # The public list and the sentiment job's "approved reviews of the last 30 days".
            models.Index(fields=["product", "status", "created_at"], name="reviews_product_status_idx"),
            models.Index(fields=["status", "created_at"], name="reviews_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.product_id}"


class StockAdjustment(models.Model):
    """Append-only record of a staff stock change (goods received, write-off, count correction)."""

    id = models.BigAutoField(_("ID"), primary_key=True)
    # The audit trail of the stock: a product with adjustments is deactivated, never deleted.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_adjustments", verbose_name=_("product")
    )
    delta = models.IntegerField(_("change in stock"))
    stock_after = models.IntegerField(_("stock after"))
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.CharField(_("changed by"), max_length=300, help_text=_("Who changed the stock, as kind:identity."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "stock_adjustments"
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock adjustment")
        verbose_name_plural = _("stock adjustments")
        indexes = [models.Index(fields=["product", "-created_at"], name="stock_adjust_product_idx")]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.product_id}: {self.reason}"


class ProductImage(models.Model):
    """A picture of a product: the uploaded original (EXIF stripped) and the sizes made from it."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="image_id")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product"))
    original = models.ImageField(
        _("original image"), upload_to="products/originals/", width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    # Storage names of the generated sizes, by size name ("thumbnail", "list", "detail").
    variants = models.JSONField(_("image sizes"), default=dict)
    alt_text = models.CharField(_("alt text"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_primary = models.BooleanField(_("primary image"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "product_images"
        ordering = ["position", "created_at"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        constraints = [
            models.UniqueConstraint(
                fields=["product"], condition=Q(is_primary=True), name="product_images_one_primary"
            ),
        ]
        indexes = [models.Index(fields=["product", "position"], name="product_images_position_idx")]

    def __str__(self) -> str:
        return gettext("Image %(position)d of %(product)s") % {"position": self.position, "product": self.product_id}


class ProductSearchSyllable(models.Model):
    """A Hangul syllable in the name or brand of a product for sale, and its search rank there, for
    searches of one syllable (products/search.py): counted and ranked from an index alone. The
    database keeps these on PostgreSQL (the triggers of the migration products/0010); SQLite's search
    has no use for them, and the table stays empty there."""

    pk = models.CompositePrimaryKey("product", "syllable")
    # No constraint of Django's: the database's own deletes these with the product (products/0010).
    product = models.ForeignKey(
        Product,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="search_syllables",
        verbose_name=_("product"),
    )
    syllable = models.CharField(_("syllable"), max_length=1)
    # The search's rank of a product found by this syllable alone (selectors._ranked): 0 the name is
    # the syllable, 1 the name starts with it, 2 the name holds it, 3 only the brand does.
    rank = models.PositiveSmallIntegerField(_("search rank"))

    class Meta:
        db_table = "product_search_syllables"
        verbose_name = _("search syllable")
        verbose_name_plural = _("search syllables")
        indexes = [models.Index(fields=["syllable", "rank", "product"], name="product_syllables_ranked_idx")]

    def __str__(self) -> str:
        return f"{self.syllable} {self.product_id}"


class ProductSearchSuffix(models.Model):
    """The end of a word of the name or brand of a product for sale from one of its letters on (이어폰:
    이어폰, 어폰, 폰), with the letters before it in the word and the search rank of a word it starts,
    for searches of one word (products/search.py): the B-tree of the suffixes finds every product a
    word starts one of, ranked and counted from the index alone, and the typos of the word by the
    rest of it. The database keeps these on PostgreSQL (the triggers of the migration products/0011);
    SQLite's search has no use for them, and the table stays empty there."""

    pk = models.CompositePrimaryKey("product", "suffix", "preceding")
    # No constraint of Django's: the database's own deletes these with the product (products/0011).
    product = models.ForeignKey(
        Product,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="search_suffixes",
        verbose_name=_("product"),
    )
    suffix = models.TextField(_("suffix"))
    # Up to two letters before the suffix in its word ('' at the start of the word): what finds a word
    # with its first or second letter wrong by the rest of it.
    preceding = models.TextField(_("letters before"), blank=True)
    # The search's rank of a product found by a word that starts this suffix (selectors._ranked): 0 the
    # name is this word (when the word is the whole suffix), 1 the name starts with it, 2 the name
    # holds it, 3 only the brand does.
    rank = models.PositiveSmallIntegerField(_("search rank"))

    class Meta:
        db_table = "product_search_suffixes"
        verbose_name = _("search suffix")
        verbose_name_plural = _("search suffixes")
        indexes = [
            # text_pattern_ops: LIKE 'word%' is a range of it in any collation; the rest is read off it.
            models.Index(
                fields=["suffix"],
                opclasses=["text_pattern_ops"],
                include=["rank", "product", "preceding"],
                name="product_suffixes_prefix_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.suffix} {self.product_id}"
