"""The suffixes of the words of the products for sale (ProductSearchSuffix), kept by the database on
PostgreSQL; on SQLite only the (empty) table.

A search of one word (이어폰) finds its products by the trigram index (products/0007) only after a visit
and recheck of every candidate in the table (1,400 of them for 이어폰 in 100,000 products), and its
typos by a dozen LIKE patterns each of which visits more. The B-tree of the suffixes hands out every
product the word starts a suffix of as one range of it, with the rank and what precedes the suffix
read off the index (products.selectors.product_search). PostgreSQL only:
- products_search_suffixes_of(name, brand): each suffix of each word (runs of letters and digits,
  lower case, NFC) of the name and brand, with up to two letters before it in its word and its rank
  (the model's `rank`) there, once per place (what stores them keeps the least rank of each suffix
  and letters before: grouped once per statement, not per product, which took twice as long);
- a statement trigger on INSERT (one INSERT for a COPY or bulk_create of thousands), and a row
  trigger on an UPDATE that changes name, brand or is_active (not on the stock updates of every
  order); a product off sale has no suffixes;
- a foreign key that deletes a product's suffixes with it;
- the suffixes of every product for sale now (about 45 s for 100,000 products: 1.25 million rows).
As with products/0010, PostgreSQL refuses to change the type of name, brand or is_active while the
trigger names them: a later migration that alters them drops the trigger first (the SQL below).
"""

import django.db.models.deletion
from django.db import migrations, models


# Words as products.search splits a search text: runs of letters and digits (the database's LC_CTYPE
# classifies Hangul as letters: products/0007 warns where it does not). The planner takes each of
# the set-returning functions inside for 1,000 rows, and would JIT-compile the query on every call
# (0.25 s a product): no JIT, and ROWS for the plans of the statements that call it.
SUFFIXES_OF = """
CREATE OR REPLACE FUNCTION products_search_suffixes_of(product_name text, product_brand text)
RETURNS TABLE (suffix text, preceding text, rank smallint)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 16 SET jit = off
AS $fn$ SELECT substr(word, start), substr(word, greatest(start - 2, 1), start - greatest(start - 2, 1)),
               (CASE WHEN in_brand THEN 3 WHEN start > 1 OR place > 1 THEN 2 WHEN word = named THEN 0 ELSE 1 END)::smallint
    FROM normalize(lower(product_name), NFC) AS named,
         LATERAL (SELECT word, place, false AS in_brand
                  FROM regexp_split_to_table(named, '[^[:alnum:]]+') WITH ORDINALITY AS words (word, place)
                  UNION ALL
                  SELECT word, place, true
                  FROM regexp_split_to_table(normalize(lower(product_brand), NFC), '[^[:alnum:]]+')
                       WITH ORDINALITY AS words (word, place)) AS words,
         generate_series(1, length(word)) AS start $fn$
"""
ON_INSERT = """
CREATE OR REPLACE FUNCTION products_search_suffixes_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO product_search_suffixes (product_id, suffix, preceding, rank)
    SELECT inserted.product_id, found.suffix, found.preceding, min(found.rank)
    FROM inserted, products_search_suffixes_of(inserted.name, inserted.brand) AS found
    WHERE inserted.is_active
    GROUP BY 1, 2, 3;
    RETURN NULL;
END $fn$;
CREATE TRIGGER products_search_suffixes_inserted AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION products_search_suffixes_inserted()
"""
ON_UPDATE = """
CREATE OR REPLACE FUNCTION products_search_suffixes_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM product_search_suffixes WHERE product_id = OLD.product_id;
    IF NEW.is_active THEN
        INSERT INTO product_search_suffixes (product_id, suffix, preceding, rank)
        SELECT NEW.product_id, found.suffix, found.preceding, min(found.rank)
        FROM products_search_suffixes_of(NEW.name, NEW.brand) AS found
        GROUP BY 1, 2, 3;
    END IF;
    RETURN NULL;
END $fn$;
CREATE TRIGGER products_search_suffixes_updated AFTER UPDATE OF name, brand, is_active ON products FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.brand IS DISTINCT FROM NEW.brand
          OR OLD.is_active IS DISTINCT FROM NEW.is_active)
    EXECUTE FUNCTION products_search_suffixes_updated()
"""
DELETED_WITH_THE_PRODUCT = """
ALTER TABLE product_search_suffixes ADD CONSTRAINT product_search_suffixes_product_fk
    FOREIGN KEY (product_id) REFERENCES products (product_id) ON DELETE CASCADE
"""
BACKFILL = """
INSERT INTO product_search_suffixes (product_id, suffix, preceding, rank)
SELECT products.product_id, found.suffix, found.preceding, min(found.rank)
FROM products, products_search_suffixes_of(products.name, products.brand) AS found
WHERE products.is_active
GROUP BY 1, 2, 3
"""
DROP = """
DROP TRIGGER IF EXISTS products_search_suffixes_updated ON products;
DROP TRIGGER IF EXISTS products_search_suffixes_inserted ON products;
DROP FUNCTION IF EXISTS products_search_suffixes_updated();
DROP FUNCTION IF EXISTS products_search_suffixes_inserted();
DROP FUNCTION IF EXISTS products_search_suffixes_of(text, text);
ALTER TABLE product_search_suffixes DROP CONSTRAINT IF EXISTS product_search_suffixes_product_fk
"""


def kept_by_the_database(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in (SUFFIXES_OF, ON_INSERT, ON_UPDATE, DELETED_WITH_THE_PRODUCT, BACKFILL):
            cursor.execute(statement)


def no_longer_kept(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0010_search_syllables'),
    ]

    operations = [
        migrations.CreateModel(
            name='ProductSearchSuffix',
            fields=[
                ('pk', models.CompositePrimaryKey('product', 'suffix', 'preceding', blank=True, editable=False, primary_key=True, serialize=False)),
                ('suffix', models.TextField(verbose_name='suffix')),
                ('preceding', models.TextField(blank=True, verbose_name='letters before')),
                ('rank', models.PositiveSmallIntegerField(verbose_name='search rank')),
                ('product', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='search_suffixes', to='products.product', verbose_name='product')),
            ],
            options={
                'verbose_name': 'search suffix',
                'verbose_name_plural': 'search suffixes',
                'db_table': 'product_search_suffixes',
                'indexes': [models.Index(fields=['suffix'], include=('rank', 'product', 'preceding'), name='product_suffixes_prefix_idx', opclasses=['text_pattern_ops'])],
            },
        ),
        migrations.RunPython(kept_by_the_database, no_longer_kept),
    ]
