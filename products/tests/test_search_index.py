"""On PostgreSQL, on a table large enough for the planner to prefer an index: every kind of search
(1, 2 and 3+ syllables, two words, a typo, a short word) is served by an index, for its page with its
count (and a typo's widened page), never by a scan of the products: one syllable by the syllable
index alone (counted without a visit of the products), another single word by the suffix index (the
products visited for the page only), two words by the trigram index."""

import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from c4ang.api.pagination import PageCountedPaginator
from c4ang.demo import CATALOG, MODIFIERS
from products import search, selectors
from products.models import Product
from products.tests.factories import CategoryFactory

# The 100,000 rows load the machine for over a minute: never beside the timed live-server runs (CI's
# --dist loadgroup runs a group on one worker, one test after another).
pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.xdist_group("machine_load")]

ROWS = 100_000


@pytest.fixture
def large_catalog():
    rng = random.Random(15)
    categories = {name: CategoryFactory(name=name) for name in CATALOG}
    rows = []
    for _ in range(ROWS):
        category = rng.choice(list(CATALOG))
        brands, nouns, _ = CATALOG[category]
        brand = rng.choice(brands)
        name = f"{brand} {rng.choice(MODIFIERS)} {rng.choice(nouns)}"
        rows.append(Product(name=name, brand=brand, category=categories[category], price=Decimal(10000)))
    Product.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        # A sample of every row (300 x the target), not a random 30,000: the same statistics, so the
        # same plans, on every run.
        cursor.execute("SET LOCAL default_statistics_target = 1000")
        cursor.execute("ANALYZE products")
        cursor.execute("ANALYZE categories")
        cursor.execute("ANALYZE product_search_syllables")
        cursor.execute("ANALYZE product_search_suffixes")


def plans_of_the_search(text: str) -> list[str]:
    """EXPLAIN of the queries of the search's first page, as the list API pages it."""
    found = selectors.product_search(products=selectors.product_list_public(), search=search.search_parse(text))
    with CaptureQueriesContext(connection) as captured:
        PageCountedPaginator(found, 20).page(1)
    plans = []
    for query in captured.captured_queries:
        if not any(
            table in query["sql"] for table in ("search_key", "product_search_syllables", "product_search_suffixes")
        ):
            continue  # the categories' query
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


KINDS = {
    "1 syllable": ["폰", "밥"],
    "2 syllables": ["김치", "텀블"],
    "3+ syllables": ["이어폰", "스마트워치"],
    "2 words": ["무선 이어폰", "배터리 미니"],
    "one syllable wrong": ["스마트워취", "이어뽄"],
    "short word": ["lg"],
}


def test_every_kind_of_search_uses_an_index_where_the_old_filter_scanned(large_catalog):
    # One table for every kind (100,000 rows take seconds to write): a plan per text, checked after.
    plans = {text: plans_of_the_search(text) for texts in KINDS.values() for text in texts}
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN SELECT count(*) FROM products WHERE UPPER(name::text) LIKE UPPER('%폰%')")
        old = "\n".join(row[0] for row in cursor.fetchall())

    for text, text_plans in plans.items():
        # the page as typed, and for a typo (nothing found as typed) the page widened to typos
        assert len(text_plans) == 2 if text in KINDS["one syllable wrong"] else text_plans, (text, text_plans)
        for plan in text_plans:
            assert "Seq Scan on products" not in plan, (text, plan)
            if text in KINDS["1 syllable"]:
                assert "product_syllables_ranked_idx" in plan, (text, plan)
                assert "Bitmap Heap Scan on products" not in plan, (text, plan)
            elif text in KINDS["2 words"]:
                assert "Bitmap Index Scan on products_search_key_trgm" in plan, (text, plan)
            else:
                # (an index-only scan once vacuumed, as the benchmark shows: here the rows are not committed)
                assert "product_suffixes_prefix_idx" in plan, (text, plan)
                assert "Index Scan using products_pkey on products" in plan, (text, plan)  # the page's only
                assert "Bitmap Heap Scan on products" not in plan, (text, plan)
    assert "Seq Scan on products" in old
    found = selectors.product_search(products=selectors.product_list_public(), search=search.search_parse("폰"))
    assert PageCountedPaginator(found, 20).count == Product.objects.filter(name__contains="폰").count() > 2000
