"""Category paths and depths from the parents, and on PostgreSQL the search index (products/search.py).

PostgreSQL only (skipped on SQLite, whose search scans the table):
- the pg_trgm extension. Since PostgreSQL 13 it is a trusted extension: the database's owner (or any
  role with CREATE on it) may create it; else the migration stops with what to ask a superuser.
- the SQL function products_search_key(text): lower case, Hangul syllables decomposed into their
  letters (NFD) and each ended by a marker, punctuation turned into spaces; IMMUTABLE, so that it can
  feed a generated column and be folded into a constant when called on a search word.
- products.search_key, a stored generated column (' ' || the key of name and brand), unknown to the
  Django model: a GIN index's recheck of an expression recomputed the key for every candidate row
  (10x slower than reading the stored key, measured on 100,000 products). PostgreSQL refuses to
  change the type of name or brand while the column uses them: a later migration that alters them
  drops search_key first and adds it again (the SQL below).
- products_search_key_trgm, a GIN index (gin_trgm_ops) on it.
The database's LC_CTYPE must classify Hangul as letters (en_US.UTF-8, C.UTF-8, ko_KR.UTF-8 do; "C"
and "POSIX" do not, and pg_trgm then ignores every Korean character): the migration warns if not.
Adding the column rewrites the products table under an exclusive lock (seconds for 100,000 rows).
"""

import uuid

from django.db import DatabaseError, migrations, transaction

SYLLABLE_VOWEL_AND_FINAL = "([\u1161-\u1175][\u11a8-\u11c2]?)"
MARK = "\u119e"
# Punctuation that separates words in names ("(LG)", "Wi-Fi", "3/4"): spaces in the key, so that a
# short word matches at the start of a word there too. % and _ stay: LIKE patterns never carry them.
PUNCTUATION = "()[]{}<>/\\,.:;+&|~!?\"'`@#$^*=-\u00b7"

FUNCTION = f"""
CREATE OR REPLACE FUNCTION products_search_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$ SELECT regexp_replace(
    translate(normalize(lower(value), NFD), '{PUNCTUATION.replace("'", "''")}', '{" " * len(PUNCTUATION)}'),
    '{SYLLABLE_VOWEL_AND_FINAL}', '\\1{MARK}', 'g') $fn$
"""
COLUMN = """
ALTER TABLE products ADD COLUMN search_key text
    GENERATED ALWAYS AS (' ' || products_search_key(name::text || ' ' || brand::text)) STORED
"""
INDEX = "CREATE INDEX products_search_key_trgm ON products USING gin (search_key gin_trgm_ops)"

NO_EXTENSION = """The pg_trgm extension could not be created ({error}).
Product search needs it. Ask a superuser (or, on RDS/Cloud SQL, the master user) to run, in database {database}:
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
then run migrate again. Nothing was changed."""

C_LOCALE = """WARNING: this database's LC_CTYPE ({ctype}) does not classify Hangul as letters: pg_trgm ignores
Korean characters and Korean searches find nothing. Create the database with LC_CTYPE en_US.UTF-8,
C.UTF-8 or ko_KR.UTF-8 (e.g. createdb --locale=C.UTF-8 --template=template0) and restore into it."""


def category_paths(apps, schema_editor):
    """Path "/<root id>/…/<own id>/" and depth of every category, from the roots down."""
    Category = apps.get_model("products", "Category")
    children: dict[uuid.UUID | None, list] = {}
    for category in Category.objects.only("id", "parent_id"):
        children.setdefault(category.parent_id, []).append(category)
    changed = []
    level = [(category, "/", 0) for category in children.get(None, [])]
    while level:
        following = []
        for category, parent_path, depth in level:
            category.path, category.depth = f"{parent_path}{category.pk}/", depth
            changed.append(category)
            following.extend((child, category.path, depth + 1) for child in children.get(category.pk, []))
        level = following
    Category.objects.bulk_update(changed, ["path", "depth"], batch_size=1000)


def search_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:  # not allowed, or not installed on the server
            raise RuntimeError(
                NO_EXTENSION.format(error=str(error).strip(), database=connection.settings_dict["NAME"])
            ) from None
        cursor.execute(FUNCTION)
        cursor.execute(COLUMN)
        cursor.execute(INDEX)
        cursor.execute("SELECT show_trgm('가나다') = '{}', current_setting('lc_ctype')")
        blind, ctype = cursor.fetchone()
        if blind:
            print(C_LOCALE.format(ctype=ctype))  # in migrate's output, where whoever migrates sees it


def search_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS products_search_key_trgm")
        cursor.execute("ALTER TABLE products DROP COLUMN IF EXISTS search_key")
        cursor.execute("DROP FUNCTION IF EXISTS products_search_key(text)")


class Migration(migrations.Migration):
    dependencies = [("products", "0006_images_and_category_tree")]

    operations = [
        migrations.RunPython(category_paths, migrations.RunPython.noop),
        migrations.RunPython(search_index, search_index_drop),
    ]
