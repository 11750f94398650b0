"""Catalog search through the public list: what it finds for Korean words of 1, 2 and 3+ syllables,
typos, short words, brands and categories; its ranking and pages; bad input. The same tests run on
SQLite (the fallback) and on PostgreSQL (the trigram index); test_search_index.py checks the plans."""

import unicodedata

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from c4ang.api.pagination import PageCountedPaginator
from products import search, selectors
from products.models import Product, ProductSearchSuffix, ProductSearchSyllable
from products.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def found(api_client, text: str, **query) -> list[str]:
    response = api_client.get(PRODUCTS, {"search": text, "page_size": 100, **query})
    assert response.status_code == 200, response.content
    return [product["name"] for product in response.json()["results"]]


@pytest.fixture
def shop():
    audio = CategoryFactory(name="음향기기", parent=CategoryFactory(name="전자제품"))
    kitchen = CategoryFactory(name="주방", parent=CategoryFactory(name="생활용품"))
    names = [
        ("소니 무선 이어폰", "소니", audio),
        ("삼성 갤럭시 버즈 이어폰", "삼성", audio),
        ("LG 톤프리 넥밴드", "LG", audio),
        ("(LG) 블루투스 스피커", "엘지전자", audio),
        ("헤드폰 거치대", "코멧", audio),
        ("스마트폰 케이스", "코멧", audio),
        ("포도 주스", "델몬트", kitchen),
        ("각 티슈", "깨끗한나라", kitchen),
        ("텀블러 500ml", "락앤락", kitchen),
        ("밀폐 용기 세트", "락앤락", kitchen),
        ("blgx 어댑터", "코멧", kitchen),
    ]
    return {name: ProductFactory(name=name, brand=brand, category=category) for name, brand, category in names}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # one syllable: anywhere in a word (스마트폰, 헤드폰), never the start of another syllable
        ("폰", ["헤드폰 거치대", "스마트폰 케이스", "소니 무선 이어폰", "삼성 갤럭시 버즈 이어폰"]),
        ("포", ["포도 주스"]),
        ("각", ["각 티슈"]),
        # two syllables
        ("이어", ["삼성 갤럭시 버즈 이어폰", "소니 무선 이어폰"]),
        ("텀블", ["텀블러 500ml"]),
        # three and more
        ("이어폰", ["삼성 갤럭시 버즈 이어폰", "소니 무선 이어폰"]),
        ("블루투스 스피커", ["(LG) 블루투스 스피커"]),
        # every word, anywhere in name or brand, in any order
        ("이어폰 소니", ["소니 무선 이어폰"]),
        ("락앤락 용기", ["밀폐 용기 세트"]),
        # a short word other than Hangul: at the start of a word (punctuation separates), not inside one
        ("lg", ["LG 톤프리 넥밴드", "(LG) 블루투스 스피커"]),
        ("500", ["텀블러 500ml"]),
    ],
)
def test_korean_words_of_every_length_find_what_they_should(api_client, shop, text, expected):
    assert sorted(found(api_client, text)) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("이어뽄", ["삼성 갤럭시 버즈 이어폰", "소니 무선 이어폰"]),  # last syllable
        ("이머폰", ["삼성 갤럭시 버즈 이어폰", "소니 무선 이어폰"]),  # middle syllable
        ("겔럭시", ["삼성 갤럭시 버즈 이어폰"]),  # first syllable
        ("블루트스 스피커", ["(LG) 블루투스 스피커"]),
        ("락엔락", ["텀블러 500ml", "밀폐 용기 세트"]),  # in the brand
    ],
)
def test_one_wrong_syllable_in_a_word_of_three_or_more_still_finds_it(api_client, shop, text, expected):
    assert sorted(found(api_client, text)) == sorted(expected)


@pytest.mark.parametrize("text", ["이엉", "갤력", "이어폰폰폰", "이엉폰폰"])
def test_two_wrong_letters_or_a_short_word_with_a_typo_find_nothing(api_client, shop, text):
    assert found(api_client, text) == []


def test_a_category_name_finds_its_products_and_those_of_its_descendants(api_client, shop):
    assert len(found(api_client, "전자제품")) == 6
    assert len(found(api_client, "음향")) == 6
    assert found(api_client, "제품") == []  # inside a category's word, not at its start
    assert sorted(found(api_client, "주방 락앤락")) == ["밀폐 용기 세트", "텀블러 500ml"]


def test_ranked_exact_name_then_prefix_then_every_word_then_brand_or_category_then_typo(api_client):
    category = CategoryFactory(name="음향기기")
    made = [
        ProductFactory(name="무선 이어폰 케이스", brand="코멧", category=category),  # 1 the name starts with it
        ProductFactory(name="이어본 무선 세트", brand="코멧", category=category),  # 4 a typo
        ProductFactory(name="소니 이어폰 무선", brand="소니", category=category),  # 2 every word in the name
        ProductFactory(name="무선 이어폰", brand="소니", category=category),  # 0 the exact name
        ProductFactory(name="오픈형 이어폰", brand="무선전자", category=category),  # 3 a word in the brand
        ProductFactory(name="무선 이어폰 거치대", brand="코멧", category=category),  # 1, tie with the other
    ]
    prefix = sorted([made[0], made[5]], key=lambda product: product.pk)

    names = found(api_client, "무선 이어폰")

    assert names == ["무선 이어폰", *[p.name for p in prefix], "소니 이어폰 무선", "오픈형 이어폰", "이어본 무선 세트"]


def test_typos_are_looked_for_while_the_words_as_typed_find_less_than_a_page(api_client):
    for n in range(20):
        ProductFactory(name=f"이어폰 {n}호")
    mistyped = ProductFactory(name="이어뽄 케이스")

    as_typed = found(api_client, "이어폰")
    with_typos = found(api_client, "이어뽄")

    assert len(as_typed) == 20
    assert mistyped.name not in as_typed
    assert with_typos[0] == mistyped.name
    assert len(with_typos) == 21
    # and so on every page of the widened list
    for page in (2, "last"):
        second = api_client.get(PRODUCTS, {"search": "이어뽄", "page_size": 20, "page": page}).json()
        assert (second["count"], len(second["results"]), second["next"]) == (21, 1, None), page


def test_ties_by_id_across_pages_and_ordering_overrides_the_ranking(api_client):
    products = [ProductFactory(name=f"텀블러 {n}호", price=10000 + n) for n in range(5)]
    by_id = sorted(products, key=lambda product: product.pk)

    first = api_client.get(PRODUCTS, {"search": "텀블러", "page_size": 2}).json()
    second = api_client.get(first["next"]).json()
    cheapest = found(api_client, "텀블러", ordering="-price")

    assert first["count"] == second["count"] == 5
    assert [p["id"] for p in first["results"] + second["results"]] == [str(p.pk) for p in by_id[:4]]
    assert cheapest == [f"텀블러 {n}호" for n in (4, 3, 2, 1, 0)]


def test_a_batch_of_ids_keeps_its_order_within_a_search(api_client, shop):
    earphones = [shop["소니 무선 이어폰"], shop["삼성 갤럭시 버즈 이어폰"]]
    ranked = [p["id"] for p in api_client.get(PRODUCTS, {"search": "이어폰"}).json()["results"]]
    batch = [str(earphones[1].pk), str(shop["포도 주스"].pk), str(earphones[0].pk)]

    in_batch = api_client.get(PRODUCTS, {"search": "이어폰", "ids": ",".join(batch)}).json()

    assert ranked == sorted(str(product.pk) for product in earphones)  # both rank alike: by id
    assert [p["id"] for p in in_batch["results"]] == [batch[0], batch[2]]  # the batch's order, found ones only


def test_a_search_page_past_the_last_is_a_404_and_a_search_finding_nothing_one_empty_page(api_client, shop):
    last = api_client.get(PRODUCTS, {"search": "이어폰", "page_size": 1, "page": 2}).json()
    past = api_client.get(PRODUCTS, {"search": "이어폰", "page_size": 1, "page": 3})
    nothing = api_client.get(PRODUCTS, {"search": "없는상품"}).json()

    assert (last["count"], len(last["results"]), last["next"]) == (2, 1, None)
    assert past.status_code == 404
    assert (nothing["count"], nothing["results"], nothing["next"]) == (0, [], None)


def test_search_combines_with_the_other_filters_and_hides_products_off_sale(api_client, shop):
    ProductFactory(name="단종 이어폰", brand="소니", is_active=False)

    assert found(api_client, "이어폰", brand="소니") == ["소니 무선 이어폰"]
    assert found(api_client, "단종") == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a", "search_too_short"),
        ("7", "search_too_short"),
        ("!!!", "search_no_words"),
        ("—·…", "search_no_words"),
        ("%", "search_no_words"),
        ("_ %% \\", "search_no_words"),
        ("a\x00b", "null_characters_not_allowed"),
        ("가" * 101, "max_length"),
        (" ".join(["가방"] * 11), "search_too_many_words"),
    ],
)
def test_bad_search_text_is_a_400_naming_search(api_client, shop, text, code):
    response = api_client.get(PRODUCTS, {"search": text})

    assert response.status_code == 400
    assert [(error["field"], error["code"]) for error in response.json()["errors"]] == [("search", code)]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("   ", 11),  # blank: no search
        ("'; DROP TABLE products; --", 0),
        ("이어폰' OR '1'='1", 0),
        ("가" * 100, 0),
        (" ".join(["가방"] * 10), 0),
        ("ㅋㅋㅋ", 0),
        ("a b c d", 0),
    ],
)
def test_odd_search_text_is_answered_200(api_client, shop, text, count):
    response = api_client.get(PRODUCTS, {"search": text})

    assert response.status_code == 200
    assert response.json()["count"] == count


def test_a_search_page_costs_a_fixed_number_of_queries(
    api_client, shop, django_assert_num_queries, invalidations_clock
):
    for n in range(30):
        ProductFactory(name=f"무선 이어폰 {n}호", category=shop["소니 무선 이어폰"].category)

    # invalidations left over (c4ang.cache.trusted), the categories, the page with the count of every
    # match (enough as typed: no typos), images
    with django_assert_num_queries(4):
        page = api_client.get(PRODUCTS, {"search": "무선 이어폰", "page_size": 20})
    # the same, then the page widened to typos (the words as typed found fewer than a page) and its
    # categories
    invalidations_clock.advance(1)  # past PENDING_CHECK_S: the look for invalidations again
    with django_assert_num_queries(6):
        mistyped = api_client.get(PRODUCTS, {"search": "무선 이어뽄", "page_size": 20})

    assert page.json()["count"] == mistyped.json()["count"] == 31
    assert len(page.json()["results"]) == len(mistyped.json()["results"]) == 20


@pytest.mark.parametrize(("text", "count"), [("폰", 4), ("이어", 2), ("lg", 2)])  # no typos: under 3 letters
def test_a_one_word_search_page_costs_as_many_queries(api_client, shop, django_assert_num_queries, text, count):
    # invalidations left over, the categories, the page with its count (PostgreSQL: off the syllable
    # or the suffix index), images
    with django_assert_num_queries(4):
        page = api_client.get(PRODUCTS, {"search": text})

    assert page.json()["count"] == count


def test_a_one_word_typo_search_page_costs_one_query_more_on_postgresql(api_client, shop, django_assert_num_queries):
    # the same, then the page widened to typos: with its categories on PostgreSQL (the suffix index
    # limits it to the page before the join), in a query of their own on SQLite
    on_postgres = connection.vendor == "postgresql"
    with django_assert_num_queries(5 if on_postgres else 6):
        page = api_client.get(PRODUCTS, {"search": "이어뽄"})

    assert page.json()["count"] == 2


def searched_page(products, text: str, page_size: int, number: int) -> tuple[list, int, str]:
    """The ids and count of a page of the search, and the SQL of the queries it took."""
    found = selectors.product_search(products=products, search=search.search_parse(text))
    with CaptureQueriesContext(connection) as captured:
        page = PageCountedPaginator(found, page_size).page(number)
    return [product.pk for product in page], page.paginator.count, " ".join(q["sql"] for q in captured)


@pytest.mark.postgres
def test_the_syllable_index_finds_ranks_and_counts_one_syllable_as_the_trigram_index_does():
    made = [
        ProductFactory(name="폰", brand="코멧"),  # 0 the name is the syllable
        ProductFactory(name="폰케이스 세트", brand="코멧"),  # 1 the name starts with it
        ProductFactory(name="폰 스트랩", brand="코멧"),  # 1
        ProductFactory(name="스마트폰 거치대", brand="코멧"),  # 2 the name holds it
        ProductFactory(name="차량용 거치대", brand="폰앤코"),  # 3 only the brand does
        *[ProductFactory(name=f"헤드폰 {n}호", brand="코멧") for n in range(25)],  # 2
    ]
    ProductFactory(name="포도 주스", brand="코멧")  # 포 is not the start of 폰
    ProductFactory(name="단종 폰", brand="코멧", is_active=False)
    public = selectors.product_list_public()

    for number in (1, 2):
        by_index = searched_page(public, "폰", 20, number)
        # another filter (every product matches it): the list's count is no longer the index's
        by_trigrams = searched_page(public.filter(price__gte=0), "폰", 20, number)

        assert "product_search_syllables" in by_index[2]
        assert "search_key" not in by_index[2]
        assert "search_key" in by_trigrams[2]
        assert by_index[:2] == by_trigrams[:2], number
    first = searched_page(public, "폰", 20, 1)[0]
    assert first[:3] == [made[0].pk, *sorted([made[1].pk, made[2].pk])]
    assert searched_page(public, "폰", 20, 2)[0][-1] == made[4].pk  # the brand's last
    assert searched_page(public, "폰", 20, 1)[1] == 30


@pytest.fixture
def words_of_every_rank():
    """Products for every rank of a word on the suffix index and the trigram index alike: the exact
    name, its start, inside the name, the brand only, short words at the start of a word, typos."""
    names = [
        ("이어폰", "코멧"),
        ("이어폰 케이스", "코멧"),
        ("이어폰케이스 세트", "코멧"),
        ("무선 이어폰", "소니"),
        ("블루투스 헤드셋", "이어폰나라"),
        ("이어뽄 거치대", "코멧"),  # 이어폰 with its third letter wrong
        ("이어버드 프로", "코멧"),  # 이어버드 starts 이어 and one letter: a typo of 이어폰 too
        ("귀이어폰", "코멧"),  # 이어폰 inside a word
        ("LG 톤프리", "LG"),
        ("(LG) 블루투스 스피커", "엘지전자"),
        ("blgx 어댑터", "코멧"),  # lg inside a word: not a short word's match
        ("Galaxy S24-울트라", "Samsung"),
        ("텀블러 500ml", "락앤락"),
        *((f"무선 헤드폰 {n}호", "코멧") for n in range(6)),
    ]
    return [ProductFactory(name=name, brand=brand) for name, brand in names]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "text",
    ["이어폰", "어폰", "이어", "이어뽄", "이아폰", "어이폰", "블루투스", "블루트스", "lg", "s24", "galaxy", "galaxi",
     "500", "ml", "울트라", "헤드폰", "헤드뽄", "없는말"],
)  # fmt: skip
def test_the_suffix_index_finds_ranks_and_counts_one_word_as_the_trigram_index_does(words_of_every_rank, text):
    public = selectors.product_list_public()

    pages = -(-searched_page(public, text, 3, 1)[1] // 3)
    for number in range(1, min(pages, 3) + 1):
        by_index = searched_page(public, text, 3, number)
        # another filter (every product matches it): the list is no longer the index's
        by_trigrams = searched_page(public.filter(price__gte=0), text, 3, number)

        assert "product_search_suffixes" in by_index[2]
        assert "search_key" not in by_index[2]
        assert "search_key" in by_trigrams[2]
        assert by_index[:2] == by_trigrams[:2], (text, number)


@pytest.mark.postgres
def test_the_suffix_index_ranks_the_exact_name_then_its_start_then_inside_then_the_brand_then_typos(
    words_of_every_rank,
):
    made = {product.name: product.pk for product in words_of_every_rank}
    ids, count, sql = searched_page(selectors.product_list_public(), "이어폰", 20, 1)

    assert "product_search_suffixes" in sql
    starting = sorted([made["이어폰 케이스"], made["이어폰케이스 세트"]])
    inside = sorted([made["무선 이어폰"], made["귀이어폰"]])
    typos = sorted([made["이어뽄 거치대"], made["이어버드 프로"]])
    assert ids == [made["이어폰"], *starting, *inside, made["블루투스 헤드셋"], *typos]
    assert count == 8


def syllables_of(product) -> set[tuple[str, int]]:
    return set(ProductSearchSyllable.objects.filter(product=product).values_list("syllable", "rank"))


def suffixes_of(product) -> set[tuple[str, str, int]]:
    return set(ProductSearchSuffix.objects.filter(product=product).values_list("suffix", "preceding", "rank"))


def row_version(product) -> str:
    """The row versions of the product's syllables and suffixes: a rewrite of either changes them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(xmin::text, ',') FROM (SELECT xmin FROM product_search_syllables WHERE product_id = %s"
            " UNION ALL SELECT xmin FROM product_search_suffixes WHERE product_id = %s) AS search_rows",
            [product.pk, product.pk],
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_the_database_keeps_the_syllables_and_suffixes_of_the_products_for_sale():
    product = ProductFactory(name="무선 폰", brand="LG")
    many = Product.objects.bulk_create(
        [Product(name=f"폰 {n}", brand="코멧", category=product.category, price=1000) for n in range(3)]
    )
    assert syllables_of(product) == {("무", 1), ("선", 2), ("폰", 2)}  # LG: no Hangul
    assert suffixes_of(product) == {("무선", "", 1), ("선", "무", 2), ("폰", "", 2), ("lg", "", 3), ("g", "l", 3)}
    for n, one in enumerate(many):
        assert syllables_of(one) == {("폰", 1), ("코", 3), ("멧", 3)}
        assert suffixes_of(one) == {("폰", "", 1), (str(n), "", 2), ("코멧", "", 3), ("멧", "코", 3)}

    version = row_version(product)
    product.stock = 3
    product.save()  # every column written, none that the search rows depend on changed
    assert row_version(product) == version

    product.name, product.brand = "폰 케이스", "엘지"
    product.save()
    assert syllables_of(product) == {("폰", 1), ("케", 2), ("이", 2), ("스", 2), ("엘", 3), ("지", 3)}
    assert suffixes_of(product) == {
        ("폰", "", 1),
        ("케이스", "", 2),
        ("이스", "케", 2),
        ("스", "케이", 2),
        ("엘지", "", 3),
        ("지", "엘", 3),
    }

    Product.objects.filter(pk=product.pk).update(is_active=False)
    assert syllables_of(product) == suffixes_of(product) == set()
    Product.objects.filter(pk=product.pk).update(is_active=True)
    assert len(syllables_of(product)) == len(suffixes_of(product)) == 6

    Product.objects.filter(pk__in=[one.pk for one in many]).delete()
    for rows in (ProductSearchSyllable.objects, ProductSearchSuffix.objects):
        assert rows.filter(product__in=many).count() == 0
        assert rows.count() == 6


def test_the_staff_list_searches_alike_with_products_off_sale(staff_client, shop):
    ProductFactory(name="단종 이어폰", brand="소니", is_active=False)

    names = [p["name"] for p in staff_client.get(f"{PRODUCTS}staff/", {"search": "이어폰"}).json()["results"]]

    assert sorted(names) == ["단종 이어폰", "삼성 갤럭시 버즈 이어폰", "소니 무선 이어폰"]


@pytest.mark.postgres
@pytest.mark.parametrize("text", ["이어폰", "갤럭시S24", "폰", "포", "각", "Ultra", "ÉCLAIR", "2026년형", "뷁"])
def test_the_python_key_of_a_word_is_the_sql_functions(text):
    with connection.cursor() as cursor:
        cursor.execute("SELECT products_search_key(%s)", [text.lower()])
        assert cursor.fetchone()[0] == search.search_key(text)


def test_parse_keeps_letters_and_digits_as_words():
    assert search.search_parse("  삼성, 갤럭시-S24 (울트라)!  ").words == ("삼성", "갤럭시", "s24", "울트라")
    assert search.search_parse("   ") is None
    assert search.search_parse("폰").words == ("폰",)


def test_hangul_typed_as_letters_searches_as_its_syllables(api_client, shop):
    decomposed = unicodedata.normalize("NFD", "이어폰")  # 9 letters (jamo), as some keyboards send it

    assert search.search_parse(decomposed).words == ("이어폰",)
    as_letters = found(api_client, decomposed)
    assert as_letters == found(api_client, "이어폰")
    assert sorted(as_letters) == ["삼성 갤럭시 버즈 이어폰", "소니 무선 이어폰"]
