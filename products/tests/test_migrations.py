"""The whole-won migration, run for real: back to the schema before it, rows as they were, forward."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import migrate

BEFORE = [("products", "0004_stock_adjustments_protect_their_product")]
WHOLE_WON = [("products", "0005_prices_in_whole_won")]


@pytest.mark.django_db(transaction=True)
def test_fractional_prices_stop_the_migration_with_their_list_and_change_nothing(latest_schema_after):
    # Given products from before prices were whole won, two of them with a fraction
    old = migrate(BEFORE)
    category = old.get_model("products", "Category").objects.create(name="도서")
    Product = old.get_model("products", "Product")
    prices = {"책": Decimal(12000), "펜": Decimal("1000.50"), "공책": Decimal("2500.01")}
    rows = {
        name: Product.objects.create(name=name, category=category, brand="b", price=price)
        for name, price in prices.items()
    }

    # When the migration runs, it refuses and names the two
    with pytest.raises(RuntimeError) as refused:
        migrate(WHOLE_WON)

    message = str(refused.value)
    assert message.splitlines()[:3] == [
        "2 product(s) have a price with a fractional part, and KRW has no minor unit.",
        "Set each to a whole number of won (admin: Products, or PATCH /api/v1/products/staff/{id}/),",
        "then run migrate again. Nothing was changed. The products:",
    ]
    assert sorted(message.splitlines()[3:]) == sorted(
        [f"  {rows['펜'].pk} '펜': 1000.50", f"  {rows['공책'].pk} '공책': 2500.01"]
    )
    assert dict(Product.objects.values_list("name", "price")) == prices
    assert MigrationExecutor(connection).loader.applied_migrations.keys() >= {BEFORE[0]}
    assert WHOLE_WON[0] not in MigrationExecutor(connection).loader.applied_migrations

    # Then, the prices fixed by staff, it applies
    Product.objects.filter(name="펜").update(price=Decimal(1000))
    Product.objects.filter(name="공책").update(price=Decimal(2500))
    new = migrate(WHOLE_WON)

    assert dict(new.get_model("products", "Product").objects.values_list("name", "price")) == {
        "책": Decimal(12000),
        "펜": Decimal(1000),
        "공책": Decimal(2500),
    }


def _back_before(target, *, functions: str, on_sale: str):
    """The schema at `target`, migrated back from the latest (the SQL functions named `functions…`
    gone), with a product for sale named `on_sale` and one not for sale: the historical Product model
    and the product for sale."""
    old = migrate(target)
    category = old.get_model("products", "Category").objects.create(name="전자제품")
    Product = old.get_model("products", "Product")
    sold = Product.objects.create(name=on_sale, category=category, brand="LG", price=Decimal(1000))
    Product.objects.create(name="폴더폰", category=category, brand="LG", price=Decimal(1000), is_active=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE %s", [f"{functions}%"])
        assert cursor.fetchone()[0] == 0
    return Product, sold


BEFORE_SYLLABLES = [("products", "0009_verbose_names")]
SYLLABLES = [("products", "0010_search_syllables")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_syllables_migration_fills_them_for_the_products_for_sale_and_back_drops_what_keeps_them(
    latest_schema_after,
):
    Product, on_sale = _back_before(BEFORE_SYLLABLES, functions="products_search_syllables", on_sale="스마트폰")

    new = migrate(SYLLABLES)

    Syllable = new.get_model("products", "ProductSearchSyllable")
    assert set(Syllable.objects.values_list("product_id", "syllable", "rank")) == {
        (on_sale.pk, "스", 1),
        (on_sale.pk, "마", 2),
        (on_sale.pk, "트", 2),
        (on_sale.pk, "폰", 2),
    }
    Product.objects.filter(pk=on_sale.pk).update(name="폰")  # kept from here on
    assert set(Syllable.objects.values_list("syllable", "rank")) == {("폰", 0)}


BEFORE_SUFFIXES = [("products", "0010_search_syllables")]
SUFFIXES = [("products", "0011_search_suffixes")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_suffixes_migration_fills_them_for_the_products_for_sale_and_back_drops_what_keeps_them(
    latest_schema_after,
):
    Product, on_sale = _back_before(BEFORE_SUFFIXES, functions="products_search_suffixes", on_sale="Galaxy 폰")

    new = migrate(SUFFIXES)

    Suffix = new.get_model("products", "ProductSearchSuffix")
    assert set(Suffix.objects.values_list("product_id", flat=True)) == {on_sale.pk}
    assert set(Suffix.objects.values_list("suffix", "preceding", "rank")) == {
        ("galaxy", "", 1),
        *((suffix, "galaxy"[max(at - 2, 0) : at], 2) for at, suffix in [(at, "galaxy"[at:]) for at in range(1, 6)]),
        ("폰", "", 2),
        ("lg", "", 3),
        ("g", "l", 3),
    }
    Product.objects.filter(pk=on_sale.pk).update(name="폰")  # kept from here on
    kept = {("폰", "", 0), ("lg", "", 3), ("g", "l", 3)}
    assert set(Suffix.objects.values_list("suffix", "preceding", "rank")) == kept
