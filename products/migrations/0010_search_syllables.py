"""The syllables of the products for sale (ProductSearchSyllable), kept by the database on
PostgreSQL; on SQLite only the (empty) table.

A search of one Hangul syllable (폰) finds thousands of products in 100,000, and the trigram index
(products/0007) has to visit and recheck every one of them in the table to count and rank them. The
B-tree of (syllable, rank, product) counts them from the index alone and hands out the best page
first (products.selectors.product_search). PostgreSQL only:
- products_search_syllables_of(name, brand): each Hangul syllable of the lower-cased name and brand
  (NFC), once, with its rank there (the model's `rank`);
- a statement trigger on INSERT (one INSERT of the syllables for a COPY or bulk_create of thousands),
  and a row trigger on an UPDATE that changes name, brand or is_active (not on the stock updates of
  every order); a product off sale has no syllables;
- a foreign key that deletes a product's syllables with it;
- the syllables of every product for sale now (about 25 s for 100,000 products, 10 syllables each).
As with products.search_key, PostgreSQL refuses to change the type of name, brand or is_active while
the trigger names them: a later migration that alters them drops the trigger first (the SQL below).
"""


import django.db.models.deletion
from django.db import migrations, models


SYLLABLES_OF = """
CREATE OR REPLACE FUNCTION products_search_syllables_of(product_name text, product_brand text)
RETURNS TABLE (syllable text, rank smallint)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$ SELECT letter, min(CASE WHEN named = letter THEN 0 WHEN left(named, 1) = letter THEN 1
                                WHEN strpos(named, letter) > 0 THEN 2 ELSE 3 END)::smallint
    FROM normalize(lower(product_name), NFC) AS named,
         regexp_split_to_table(normalize(lower(product_name || ' ' || product_brand), NFC), '') AS letter
    WHERE ascii(letter) BETWEEN 44032 AND 55203  -- U+AC00 가 to U+D7A3 힣
    GROUP BY letter $fn$
"""
ON_INSERT = """
CREATE OR REPLACE FUNCTION products_search_syllables_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO product_search_syllables (product_id, syllable, rank)
    SELECT inserted.product_id, found.syllable, found.rank
    FROM inserted, products_search_syllables_of(inserted.name, inserted.brand) AS found
    WHERE inserted.is_active;
    RETURN NULL;
END $fn$;
CREATE TRIGGER products_search_syllables_inserted AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION products_search_syllables_inserted()
"""
ON_UPDATE = """
CREATE OR REPLACE FUNCTION products_search_syllables_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM product_search_syllables WHERE product_id = OLD.product_id;
    IF NEW.is_active THEN
        INSERT INTO product_search_syllables (product_id, syllable, rank)
        SELECT NEW.product_id, found.syllable, found.rank FROM products_search_syllables_of(NEW.name, NEW.brand) AS found;
    END IF;
    RETURN NULL;
END $fn$;
CREATE TRIGGER products_search_syllables_updated AFTER UPDATE OF name, brand, is_active ON products FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.brand IS DISTINCT FROM NEW.brand
          OR OLD.is_active IS DISTINCT FROM NEW.is_active)
    EXECUTE FUNCTION products_search_syllables_updated()
"""
DELETED_WITH_THE_PRODUCT = """
ALTER TABLE product_search_syllables ADD CONSTRAINT product_search_syllables_product_fk
    FOREIGN KEY (product_id) REFERENCES products (product_id) ON DELETE CASCADE
"""
BACKFILL = """
INSERT INTO product_search_syllables (product_id, syllable, rank)
SELECT products.product_id, found.syllable, found.rank
FROM products, products_search_syllables_of(products.name, products.brand) AS found
WHERE products.is_active
"""
DROP = """
DROP TRIGGER IF EXISTS products_search_syllables_updated ON products;
DROP TRIGGER IF EXISTS products_search_syllables_inserted ON products;
DROP FUNCTION IF EXISTS products_search_syllables_updated();
DROP FUNCTION IF EXISTS products_search_syllables_inserted();
DROP FUNCTION IF EXISTS products_search_syllables_of(text, text);
ALTER TABLE product_search_syllables DROP CONSTRAINT IF EXISTS product_search_syllables_product_fk
"""


def kept_by_the_database(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in (SYLLABLES_OF, ON_INSERT, ON_UPDATE, DELETED_WITH_THE_PRODUCT, BACKFILL):
            cursor.execute(statement)


def no_longer_kept(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0009_verbose_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='ProductSearchSyllable',
            fields=[
                ('pk', models.CompositePrimaryKey('product', 'syllable', blank=True, editable=False, primary_key=True, serialize=False)),
                ('syllable', models.CharField(max_length=1, verbose_name='syllable')),
                ('rank', models.PositiveSmallIntegerField(verbose_name='search rank')),
                ('product', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='search_syllables', to='products.product', verbose_name='product')),
            ],
            options={
                'verbose_name': 'search syllable',
                'verbose_name_plural': 'search syllables',
                'db_table': 'product_search_syllables',
                'indexes': [models.Index(fields=['syllable', 'rank', 'product'], name='product_syllables_ranked_idx')],
            },
        ),
        migrations.RunPython(kept_by_the_database, no_longer_kept),
    ]
