"""Reads of the catalog: other modules look products up here."""

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Expression,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django_cte import CTE, with_cte

from c4ang.api.pagination import counted_with_page
from c4ang.selectors import get_or_raise
from products.errors import CategoryNotFound, ProductImageNotFound, ProductNotFound, ReviewNotFound
from products.models import Category, Product, ProductImage, ProductSearchSuffix, ProductSearchSyllable, Review
from products.search import (
    ProductSearch,
    is_short,
    is_syllable,
    key_pattern,
    may_be_mistyped,
    raw_typo_patterns,
    search_key,
    typos,
)


def product_list_public() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("category")


def product_get_public(*, product_id: UUID) -> Product:
    return get_or_raise(product_list_public(), ProductNotFound, pk=product_id)


def products_in_given_order(*, products: QuerySet[Product], product_ids: list[UUID]) -> QuerySet[Product]:
    """The `products` among these ids, in the order of the ids."""
    position = Case(*(When(pk=product_id, then=Value(index)) for index, product_id in enumerate(product_ids)))
    return products.filter(pk__in=product_ids).order_by(position)


def product_brands() -> list[dict]:
    """The brands of the products for sale with how many each has: {name, product_count}, by name
    (sorted here: SQLite has no Korean collation; in code point order Hangul is in 가나다 order)."""
    rows = (
        Product.objects.filter(is_active=True)
        .exclude(brand="")
        .values("brand")
        .annotate(product_count=Count("id"))
        .order_by()
    )
    brands = [{"name": row["brand"], "product_count": row["product_count"]} for row in rows]
    return sorted(brands, key=lambda brand: (brand["name"].casefold(), brand["name"]))


def product_low_stock(*, threshold: int, limit: int) -> list[Product]:
    """Active products at or below `threshold` units, emptiest first."""
    return list(
        Product.objects.filter(is_active=True, stock__lte=threshold)
        .select_related("category")
        .order_by("stock", "name")[:limit]
    )


def product_most_reviewed(*, limit: int) -> list[dict]:
    """The products with the most approved reviews: id, name, review_count (the products' count)."""
    return list(
        Product.objects.filter(review_count__gt=0)
        .order_by("-review_count", "name")
        .values("id", "name", "review_count")[:limit]
    )


def product_list_all() -> QuerySet[Product]:
    """Staff: every product, for sale or not."""
    return Product.objects.select_related("category")


def product_get(*, product_id: UUID) -> Product:
    return get_or_raise(product_list_all(), ProductNotFound, pk=product_id)


def product_map(*, product_ids: list[UUID]) -> dict[UUID, Product]:
    """The products with these ids (active or not), by id; missing ids are simply absent."""
    return {product.pk: product for product in Product.objects.filter(pk__in=product_ids)}


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def category_get(*, category_id: UUID) -> Category:
    return get_or_raise(Category, CategoryNotFound(field="category"), pk=category_id)


def review_list_public(*, product_id: UUID) -> QuerySet[Review]:
    """Approved reviews of a product for sale; a hidden or unknown product is a 404."""
    product_get_public(product_id=product_id)
    return Review.objects.filter(product_id=product_id, status=Review.Status.APPROVED)


def review_get(*, review_id: UUID) -> Review:
    return get_or_raise(Review, ReviewNotFound, pk=review_id)


def review_get_for_update(*, review_id: UUID) -> Review:
    """The review, its row locked until the transaction ends (moderations of it queue on it)."""
    return get_or_raise(Review.objects.select_for_update(), ReviewNotFound, pk=review_id)


def product_ranking_attributes() -> list[tuple[UUID, UUID, str]]:
    """(id, category id, brand) of every active product: what the recommendation ranking compares."""
    return list(Product.objects.filter(is_active=True).values_list("id", "category_id", "brand"))


def product_summaries(*, product_ids: list[UUID]) -> dict[UUID, Product]:
    """The active products among these ids, with their category, by id (one query)."""
    return {product.pk: product for product in product_list_public().filter(pk__in=product_ids)}


def review_counts_by_product(
    *, since: datetime, min_reviews: int, exclude_product_ids: set[UUID], limit: int
) -> list[tuple[UUID, int]]:
    """(product id, approved reviews created since `since`) of the active products with at least
    `min_reviews` of them, leaving out `exclude_product_ids`; most reviewed first, ties by id."""
    rows = (
        Review.objects.filter(status=Review.Status.APPROVED, created_at__gte=since, product__is_active=True)
        .exclude(product_id__in=exclude_product_ids)
        .values("product_id")
        .annotate(review_count=Count("id"))
        .filter(review_count__gte=min_reviews)
        .order_by("-review_count", "product_id")[:limit]
    )
    return [(row["product_id"], row["review_count"]) for row in rows]


def review_contents(*, product_id: UUID, since: datetime) -> list[str]:
    """The texts of a product's approved reviews created since `since`, oldest first."""
    return list(
        Review.objects.filter(product_id=product_id, status=Review.Status.APPROVED, created_at__gte=since)
        .order_by("created_at", "id")
        .values_list("content", flat=True)
    )


# --- images ---


def product_get_for_update(*, product_id: UUID) -> Product:
    """The product, its row locked until the transaction ends (writes of its images queue on it)."""
    return get_or_raise(Product.objects.select_for_update(), ProductNotFound, pk=product_id)


def product_image_list(*, product_id: UUID) -> QuerySet[ProductImage]:
    """A product's images in their order (`position`, then upload order)."""
    return ProductImage.objects.filter(product_id=product_id).order_by("position", "created_at", "id")


def product_image_list_staff(*, product_id: UUID) -> QuerySet[ProductImage]:
    """Staff: the images of any product (for sale or not); an unknown product is a 404."""
    product_get(product_id=product_id)
    return product_image_list(product_id=product_id)


def product_image_get(*, product_id: UUID, image_id: UUID) -> ProductImage:
    """One image of this product; an image of another product is a 404 like an unknown one."""
    return get_or_raise(ProductImage.objects.filter(product_id=product_id), ProductImageNotFound, pk=image_id)


def products_with_primary_image(*, products: QuerySet[Product]) -> QuerySet[Product]:
    """The products with their primary image (None without images) as `primary_images` (a list of
    at most one), in one more query for the whole page."""
    primary = ProductImage.objects.filter(is_primary=True)
    return products.prefetch_related(Prefetch("images", queryset=primary, to_attr="primary_images"))


def product_get_public_with_images(*, product_id: UUID) -> Product:
    """A product for sale with its images in order (`images`) and its primary one (`primary_images`)."""
    product = product_get_public(product_id=product_id)
    ordered = ProductImage.objects.order_by("position", "created_at", "id")
    prefetch_related_objects([product], Prefetch("images", queryset=ordered))
    product.primary_images = [image for image in product.images.all() if image.is_primary]
    return product


# --- search ---


class _SearchKey(Expression):
    """products.search_key: the key of name and brand that the migration products/0007 adds on
    PostgreSQL as a generated column (not a model field; products.search)."""

    output_field = TextField()

    def as_sql(self, compiler, connection):
        return f'{compiler.quote_name_unless_alias(compiler.query.get_initial_alias())}."search_key"', []


class _SearchKeyRechecked(_SearchKey):
    """The same column, as an expression no index serves: for the checks of the rows found."""

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        return f"({sql} || '')", params


class _Matches(Func):
    """`expression <operator> pattern` (LIKE, ~) as a condition; the pattern is a constant, so that
    the planner can take the trigrams of the GIN index from it."""

    output_field = BooleanField()

    def __init__(self, expression, operator: str, pattern: str):
        super().__init__(expression, Value(pattern), template="(%(expressions)s)", arg_joiner=f" {operator} ")


SEARCH_TYPOS_BELOW = 20


def product_search(*, products: QuerySet[Product], search: ProductSearch) -> QuerySet[Product]:
    """The `products` found by the search, best first (products/search.py: what matches and the
    ranking; ties by id, unless `products` are ordered already), counted with the page
    (c4ang.api.pagination.counted_with_page). A word of 3+ letters is also looked for with a typo
    while the words as typed find fewer than SEARCH_TYPOS_BELOW products: typos are what a search
    that finds little needs, and their candidates cost more than the rest of the query. The list
    is then widened to them by the paginator, from the page's count: a search that finds enough as
    typed costs the categories' query and its page, served on PostgreSQL by the syllable or the suffix
    index for one word in the public list as it is, else by the trigram index."""
    postgres = connection.vendor == "postgresql"
    named = _categories_named(words=search.words)
    if postgres and _one_word_in_the_public_list(products, search, named):
        (word,) = search.words
        return _ranked_by_syllable(products, word) if is_syllable(word) else _ranked_by_suffix(products, word)
    found = []  # per word: found as typed (name, brand or category)
    for word in search.words:
        as_typed = _word_found_key(word) if postgres else _word_found_raw(word)
        found.append(as_typed | Q(category_id__in=named[word]) if named[word] else as_typed)
    as_typed = _ranked(products, search, found=found, matches=found, postgres=postgres)
    with_typo = [_word_typo_key(word) if postgres else _word_typo_raw(word) for word in search.words]
    if not any(with_typo):
        return counted_with_page(as_typed)

    def widened() -> QuerySet[Product]:
        found_or_typo = [word if typo is None else word | typo for word, typo in zip(found, with_typo, strict=True)]
        # Its categories in a query of their own for the page: the planner expects a few rows of the
        # ORed typo patterns and would join every match with the categories in a nested loop (4 ms of 20).
        return counted_with_page(
            _ranked(
                products.select_related(None).prefetch_related("category"),
                search,
                found=found,
                matches=found_or_typo,
                postgres=postgres,
            )
        )

    return counted_with_page(as_typed, widened=widened, below=SEARCH_TYPOS_BELOW)


def _ranked(
    products: QuerySet[Product], search: ProductSearch, *, found: list[Q], matches: list[Q], postgres: bool
) -> QuerySet[Product]:
    """The products meeting every condition of `matches`, ranked (`found`: each word as typed)."""
    starts = _name_starts_with(search.text, postgres)
    rank = Case(
        When(starts & Q(name__iexact=search.text), then=Value(0)),
        When(starts, then=Value(1)),
        When(Q(*[_name_contains(word) for word in search.words]), then=Value(2)),
        When(Q(*found), then=Value(3)),
        default=Value(4),
    )
    ranked = products.filter(*matches).annotate(search_rank=rank)
    # An order given already (a batch's `ids`, the client's `ordering`) wins over the ranking.
    return ranked if products.query.order_by else ranked.order_by("search_rank", "id")


def _one_word_in_the_public_list(
    products: QuerySet[Product], search: ProductSearch, named: dict[str, list[UUID]]
) -> bool:
    """Whether the indexes of one word (ProductSearchSyllable for a Hangul syllable, else
    ProductSearchSuffix) find, rank and count the search alike: one word that names no category, in
    the list of every product for sale as it is (another filter would count fewer; an order given
    would not be the index's)."""
    (word, *others) = search.words
    return (
        not others
        and not named[word]
        and not products.query.order_by
        and products.query.where == product_list_public().query.where
    )


def _ranked_by_syllable(products: QuerySet[Product], syllable: str) -> QuerySet[Product]:
    # The page in the index's order, its count off the index alone: nothing visits every match.
    ranked = (
        products.filter(search_syllables__syllable=syllable)
        .annotate(search_rank=F("search_syllables__rank"))
        .order_by("search_rank", "id")
    )
    of_syllable = ProductSearchSyllable.objects.filter(syllable=syllable).values("syllable")
    return counted_with_page(ranked, total=Subquery(of_syllable.annotate(total=Count("*")).values("total")))


def _ranked_by_suffix(products: QuerySet[Product], word: str) -> QuerySet[Product]:
    """The products with a word the search word starts a suffix of (the start of the word for a
    short one), ranked and counted off the suffix index; widened to the word with one letter wrong
    (any letter in its place) while that finds fewer than SEARCH_TYPOS_BELOW."""
    as_typed = Q(suffix__startswith=word, preceding="") if is_short(word) else Q(suffix__startswith=word)
    # The rows keep the rank of the word that is the whole suffix: a shorter one only starts the name.
    rank = Case(
        When(rank=0, suffix=word, then=Value(0)),
        When(rank__lte=1, then=Value(1)),
        default=F("rank"),
        output_field=IntegerField(),
    )
    found = [_suffix_rows(as_typed, rank)]
    if not may_be_mistyped(word):
        return _ranked_by_suffix_rows(products, found)

    def widened() -> QuerySet[Product]:
        # Built only for a page that found too few: the typos' rows take longer to build than to run.
        with_typo = [_suffix_rows(typo, Value(4)) for typo in _word_typos_suffix(word)]
        return _ranked_by_suffix_rows(products, found + with_typo)

    return _ranked_by_suffix_rows(products, found, widened=widened)


def _suffix_rows(matches: Q, rank: Expression) -> QuerySet:
    return ProductSearchSuffix.objects.filter(matches).values("product_id", found_rank=rank)


def _ranked_by_suffix_rows(
    products: QuerySet[Product], found: list[QuerySet], widened: Callable[[], QuerySet] | None = None
) -> QuerySet[Product]:
    # Each kind of match a range of the index read alone (UNION ALL: an OR would visit the table for
    # every match), ranked and counted in a subquery limited to the page there, then joined to the
    # products: a join before the LIMIT would fetch every match (1,400 for 이어폰) to sort them.
    first, *others = found
    matched = CTE(first.union(*others, all=True) if others else first, name="matched")
    ranked = (
        matched.queryset()
        .values("product_id")
        .annotate(search_rank=Min("found_rank"), total=Window(Count("*")))
        .order_by("search_rank", "product_id")
    )

    def listed(rows: QuerySet) -> tuple[QuerySet[Product], Expression]:
        page = CTE(rows, name="found")
        joined = page.join(products, pk=page.col.product_id).annotate(search_rank=page.col.search_rank)
        return with_cte(matched, page, select=joined.order_by("search_rank", "id")), page.col.total

    def paged(bottom: int, top: int) -> QuerySet[Product]:
        page, total = listed(ranked[bottom:top])
        return counted_with_page(page, total=total)

    whole, total = listed(ranked)
    below = SEARCH_TYPOS_BELOW if widened else 0
    return counted_with_page(whole, total=total, paged=paged, widened=widened, below=below)


def _word_typos_suffix(word: str) -> list[Q]:
    """The suffix rows of the word with one letter wrong, per position: the first or second by the
    rest of the word and the letters before it, a later one by the letters before it (each a range
    of the index)."""
    return [
        Q(suffix__startswith=word[1:]) & ~Q(preceding=""),
        Q(suffix__startswith=word[2:]) & Q(_Matches(F("preceding"), "LIKE", f"{word[0]}_")),
        *(Q(_Matches(F("suffix"), "LIKE", f"{word[:at]}_{word[at + 1 :]}%")) for at in range(2, len(word))),
    ]


def _name_starts_with(text: str, postgres: bool) -> Q:
    # The key of the name starts `search_key` (after its space): no upper() of every name found.
    if postgres:
        return Q(_Matches(_SearchKey(), "LIKE", f" {search_key(text)}%"))
    return Q(name__istartswith=text)


def _name_contains(word: str) -> Q:
    # Hangul and digits have no case: LIKE, without lower-casing every name found.
    return Q(name__contains=word) if word == word.upper() else Q(name__icontains=word)


def _word_found_key(word: str) -> Q:
    return Q(_Matches(_SearchKey(), "LIKE", key_pattern(word)))


def _word_typo_key(word: str) -> Q | None:
    # Per position: the candidates through the index, then exactly one letter different there.
    found = None
    for typo in typos(word):
        exact = Q()
        for pattern in typo.exact:
            # On the candidates only: `|| ''` keeps the planner from scanning the index again for it.
            exact |= Q(_Matches(_SearchKeyRechecked(), "LIKE", pattern))
        at_position = Q(_Matches(_SearchKey(), "LIKE", typo.candidates)) & exact
        found = at_position if found is None else found | at_position
    return found


def _word_found_raw(word: str) -> Q:
    if is_short(word):
        at_word_start = r"(?:^|[\W_])" + re.escape(word)
        return Q(name__iregex=at_word_start) | Q(brand__iregex=at_word_start)
    return Q(name__icontains=word) | Q(brand__icontains=word)


def _word_typo_raw(word: str) -> Q | None:
    patterns = raw_typo_patterns(word)
    if not patterns:
        return None
    one_wrong = "|".join(patterns)
    return Q(name__iregex=one_wrong) | Q(brand__iregex=one_wrong)


def _categories_named(*, words: tuple[str, ...]) -> dict[str, list[UUID]]:
    """For each word, the ids of the categories one of whose name's words, or one of whose
    ancestors' names' words, starts with it: 음향 names 음향기기, 티 does not name 뷰티. One query of
    the categories (a catalog has hundreds, not millions), matched here: cheaper than an EXISTS per
    word and category in SQL."""
    categories = {
        pk: (parent_id, name.lower().split())
        for pk, parent_id, name in Category.objects.values_list("pk", "parent", "name")
    }

    def is_named(category_id: UUID | None, word: str) -> bool:
        for _ in range(len(categories)):  # itself, then its ancestors (a tree has no cycle; bounded anyway)
            if category_id is None:
                return False
            parent_id, name_words = categories[category_id]
            if any(name_word.startswith(word) for name_word in name_words):
                return True
            category_id = parent_id
        return False

    return {word: [pk for pk in categories if is_named(pk, word)] for word in words}


def category_subtree(*, category_id: UUID) -> QuerySet[Category]:
    """The ids of the category and of its descendants (path prefix), as a subquery: filtering by it
    is one query with the products'. An unknown category is an empty subtree."""
    own_path = Category.objects.filter(pk=category_id).exclude(path="").values("path")[:1]
    return Category.objects.filter(Q(pk=category_id) | Q(path__startswith=Subquery(own_path))).values("pk")


def product_in_category(*, products: QuerySet[Product], category_id: UUID) -> QuerySet[Product]:
    """The `products` in the category or any of its descendants."""
    return products.filter(category_id__in=category_subtree(category_id=category_id))


def category_tree() -> list[Category]:
    """Every category in tree order: each root (by name) followed by its descendants, depth first,
    siblings by name; `depth` from the parents (one query)."""
    children: dict[UUID | None, list[Category]] = defaultdict(list)
    for category in Category.objects.order_by("name", "id"):
        children[category.parent_id].append(category)
    ordered = []
    pending = [(category, 0) for category in reversed(children[None])]
    while pending:
        category, depth = pending.pop()
        category.depth = depth
        ordered.append(category)
        pending.extend((child, depth + 1) for child in reversed(children[category.pk]))
    return ordered


def category_subtree_height(*, category_id: UUID) -> int:
    """How many levels the category's descendants add below it (0 for a leaf)."""
    category = category_get(category_id=category_id)
    if not category.path:
        return 0
    deepest = Category.objects.filter(path__startswith=category.path).aggregate(deepest=Max("depth"))["deepest"]
    return deepest - category.depth


def product_primary_image_urls(*, product_ids: list[UUID], size: str = "list") -> dict[UUID, str]:
    """The URL of the `size` variant ("thumbnail", "list", "detail") of each product's primary image,
    by product id, in one query; a product without a primary image is absent."""
    primary = ProductImage.objects.filter(product_id__in=product_ids, is_primary=True).only("product_id", "variants")
    return {image.product_id: default_storage.url(image.variants[size]) for image in primary if size in image.variants}
