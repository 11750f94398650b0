"""Catalog search on 100,000 products vs the `name icontains` scan it replaced; not a test.

PostgreSQL only (its indexes are the point). The fixture: 100,000 active products with
realistic Korean names (brand, series, model words, product noun, colour or size) in a two-level
category tree of 7 roots and 25 subcategories, seeded once per database (COPY; not timed) and
analysed (and vacuumed, as autovacuum leaves a catalog that has stood a while). Timed, uncached (the
selectors, not the cached API): what a search page costs the database, i.e. the categories the words
name and the first page of 20 with the count of every match (one query, as the list API pages a
search; when the words as typed find fewer than 20, a second one widened to typos), built by
`selectors.product_search`: one syllable by the syllable index, another single word (typos too) by
the suffix index, two words by the trigram index;
against the old filter (`name icontains`, newest first: its count and first page) on the same
queries, interleaved query by query, so that the machine's other load falls on both alike. Queries
by class: 1 syllable, 2 syllables, 3+ syllables (one word or two), and 3+ syllables with one
syllable wrong (typos; the old filter finds nothing for those). Prints p50/p95 per class and the
planner's plan of one query per class (EXPLAIN ANALYZE).

    createdb -h 127.0.0.1 -U postgres c4ang_search_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_search_bench .venv/bin/python bench/search.py --rounds 20
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = 100_000
PAGE = 20

# root category -> subcategory -> product nouns
TREE = {
    "전자제품": {
        "음향기기": ["무선 이어폰", "블루투스 스피커", "헤드폰", "사운드바", "넥밴드 이어폰"],
        "스마트기기": ["스마트워치", "태블릿", "스마트폰", "전자책 리더기", "액션캠"],
        "컴퓨터": ["노트북", "게이밍 마우스", "기계식 키보드", "모니터", "외장 SSD"],
        "생활가전": ["공기청정기", "로봇청소기", "무선청소기", "제습기", "전기포트"],
    },
    "패션": {
        "상의": ["후드티", "맨투맨", "반팔 티셔츠", "니트 가디건", "셔츠"],
        "하의": ["청바지", "슬랙스", "조거 팬츠", "반바지", "치마"],
        "아우터": ["패딩 점퍼", "롱코트", "바람막이", "경량 패딩", "트렌치코트"],
        "신발": ["운동화", "러닝화", "슬리퍼", "로퍼", "부츠"],
    },
    "뷰티": {
        "스킨케어": ["수분 크림", "에센스", "토너", "앰플", "아이크림"],
        "메이크업": ["립스틱", "쿠션 팩트", "아이섀도 팔레트", "마스카라", "틴트"],
        "선케어": ["선크림", "선스틱", "톤업 선크림"],
    },
    "식품": {
        "간편식": ["즉석밥", "컵라면", "라면 묶음", "냉동 만두", "볶음밥"],
        "음료": ["생수", "탄산수", "녹차", "콜드브루 커피", "두유"],
        "신선식품": ["김치", "계란", "사과", "한우 등심", "고등어"],
    },
    "생활용품": {
        "주방": ["밀폐 용기", "전기밥솥", "프라이팬", "텀블러", "도마"],
        "욕실": ["화장지", "수건 세트", "샴푸", "치약", "칫솔"],
        "수납": ["리빙박스", "행거", "옷걸이", "선반"],
    },
    "도서": {
        "소설": ["장편소설", "단편집", "추리소설", "판타지 소설"],
        "교양": ["에세이", "자기계발서", "역사서", "과학 교양서"],
        "IT": ["프로그래밍 입문서", "파이썬 책", "데이터 분석 책"],
    },
    "스포츠": {
        "피트니스": ["요가 매트", "덤벨 세트", "폼롤러", "케틀벨", "스마트 줄넘기"],
        "아웃도어": ["등산 배낭", "텐트", "캠핑 의자", "등산화", "침낭"],
        "자전거": ["자전거 헬멧", "자전거 라이트", "전기자전거"],
    },
}
# brand -> series (model lines) per root category
BRANDS = {
    "전자제품": {
        "삼성": ["갤럭시", "비스포크", "오디세이"],
        "LG": ["그램", "퓨리케어", "코드제로", "톤프리"],
        "애플": ["에어팟", "아이패드", "맥북"],
        "소니": ["WH-1000XM5", "엑스페리아"],
        "샤오미": ["레드미", "미지아"],
        "다이슨": ["V15", "퓨어쿨"],
        "로지텍": ["MX", "G502"],
        "보스": ["콰이어트컴포트"],
        "JBL": ["플립6", "튠"],
    },
    "패션": {
        "무신사 스탠다드": [],
        "유니클로": ["에어리즘", "히트텍"],
        "나이키": ["에어맥스", "조던"],
        "아디다스": ["울트라부스트", "삼바"],
        "뉴발란스": ["993", "530"],
        "스파오": [],
    },
    "뷰티": {
        "이니스프리": ["그린티"],
        "설화수": ["자음생"],
        "라네즈": ["워터뱅크"],
        "에뛰드": ["픽싱틴트"],
        "닥터자르트": ["시카페어"],
        "헤라": ["블랙쿠션"],
    },
    "식품": {
        "CJ제일제당": ["햇반", "비비고"],
        "농심": ["신라면", "백산수"],
        "오뚜기": ["진라면", "컵밥"],
        "풀무원": ["얇은피"],
        "동원": ["양반"],
        "매일유업": ["매일두유"],
    },
    "생활용품": {
        "다이소": [],
        "락앤락": ["비스프리"],
        "코멧": [],
        "깨끗한나라": [],
        "쿠쿠": ["트윈프레셔"],
        "해피콜": ["IH"],
    },
    "도서": {
        "민음사": ["세계문학전집"],
        "문학동네": [],
        "창비": [],
        "위즈덤하우스": [],
        "한빛미디어": ["혼자 공부하는"],
    },
    "스포츠": {
        "나이키": [],
        "아디다스": [],
        "데상트": [],
        "휠라": [],
        "코오롱스포츠": [],
        "노스페이스": ["눕시"],
        "삼천리자전거": ["팬텀"],
    },
}
MODIFIERS = ["프리미엄", "베이직", "2026년형", "대용량", "미니", "슬림", "프로", "에디션", "오리지널", "라이트"]
MODIFIERS += ["울트라", "플러스", "맥스", "무선", "초경량", "고급형", "정품", "신상", "한정판", "특가"]
ATTRIBUTES = ["화이트", "블랙", "네이비", "베이지", "그레이", "핑크", "블루", "250ml", "500ml", "1L", "2개입"]
ATTRIBUTES += ["10개입", "대형", "소형", "S", "M", "L", "XL", "256GB", "512GB", "1TB", "세트", "리필"]

QUERIES = {
    "1 syllable": ["폰", "컵", "책", "밥", "차", "티", "캠", "팩"],
    "2 syllables": ["텐트", "생수", "토너", "앰플", "치약", "샴푸", "계란", "부츠", "셔츠", "녹차"],
    "3+ syllables": ["이어폰", "노트북", "청소기", "공기청정기", "스마트워치", "갤럭시", "러닝화", "선크림"],
    "3+ syllables, 2 words": ["블루투스 스피커", "무선 이어폰", "삼성 갤럭시", "나이키 운동화"],
    "3+ syllables, one wrong": ["이어뽄", "노트붂", "겔럭시", "블루트스", "청소끼", "스마트워취", "러닝하"],
}


def product_rows(count: int, seed: int = 15) -> list[tuple[str, str, str, str]]:
    """(name, brand, root category, subcategory) of `count` products, deterministic for a seed."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        root = rng.choice(list(TREE))
        sub = rng.choice(list(TREE[root]))
        brand = rng.choice(list(BRANDS[root]))
        parts = [brand]
        if BRANDS[root][brand] and rng.random() < 0.6:
            series = rng.choice(BRANDS[root][brand])
            parts.append(series + (str(rng.randint(2, 9)) if rng.random() < 0.3 else ""))
        if rng.random() < 0.7:
            parts.append(rng.choice(MODIFIERS))
        parts.append(rng.choice(TREE[root][sub]))
        if rng.random() < 0.6:
            parts.append(rng.choice(ATTRIBUTES))
        rows.append((" ".join(parts), brand, root, sub))
    return rows


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c4ang.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/search.py measures the PostgreSQL index: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)


def seed() -> None:
    """PRODUCTS products in the tree, once per database (COPY; the generated key column fills itself)."""
    from django.db import connection

    from products import services
    from products.models import Product

    if Product.objects.count() == PRODUCTS:
        return
    Product.objects.all().delete()
    categories = {
        (root, sub): services.category_get_or_create(name=sub, parent_name=root).pk
        for root, subs in TREE.items()
        for sub in subs
    }
    buffer = io.StringIO()
    rng = random.Random(7)
    for name, brand, root, sub in product_rows(PRODUCTS):
        price = rng.randrange(20, 5000) * 100
        buffer.write(f"{uuid.uuid4()}\t{name}\t{categories[root, sub]}\t{brand}\t{price}\t10\tt\tnow()\tnow()\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        columns = "product_id, name, category_id, brand, price, stock, is_active, created_at, updated_at"
        with cursor.copy(f"COPY products ({columns}) FROM STDIN") as copy:
            copy.write(buffer.read())
        cursor.execute("UPDATE products SET created_at = now() - random() * interval '365 days'")


def settle() -> None:
    """What autovacuum does to a catalog that has stood a while (not timed): statistics, and the
    visibility map that lets the syllable and suffix indexes count without visiting their tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("products", "product_search_syllables", "product_search_suffixes", "categories"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def new_search(text: str) -> tuple[int, list]:
    from c4ang.api.pagination import PageCountedPaginator
    from products import search, selectors

    found = selectors.product_search(products=selectors.product_list_public(), search=search.search_parse(text))
    page = PageCountedPaginator(found, PAGE).page(1)
    return page.paginator.count, list(page)


def old_icontains(text: str) -> tuple[int, list]:
    from products import selectors

    found = selectors.product_list_public().filter(name__icontains=text).order_by("-created_at")
    return found.count(), list(found[:PAGE])


def timed(call, text: str) -> tuple[float, int]:
    started = time.perf_counter()
    count, _ = call(text)
    return (time.perf_counter() - started) * 1000, count


def plan_of(text: str) -> str:
    """EXPLAIN ANALYZE of the query that gave the first page (for a typo: the page widened to typos)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        new_search(text)
    products = ("search_key", "product_search_syllables", "product_search_suffixes")
    sql = [query["sql"] for query in captured.captured_queries if any(word in query["sql"] for word in products)][-1]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}")
        lines = [row[0] for row in cursor.fetchall()]
    keep = ("Scan", "Bitmap", "Limit", "Sort", "WindowAgg", "Append", "Execution", "Planning", "Rows Removed")
    return "\n".join("    " + line for line in lines if any(word in line for word in keep))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="times each query runs each way")
    args = parser.parse_args()
    setup()
    seed()
    settle()
    from django.db import connection

    from products.models import Product

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(cursor.fetchone()[0].split(" on ")[0])
    print(f"{Product.objects.count():,} products; {args.rounds} rounds; page of {PAGE} with its count\n")
    for text in ("폰", "이어폰"):  # warm the caches of both paths
        new_search(text), old_icontains(text)
    print(f"{'queries':28} {'search p50':>10} {'p95':>7} {'icontains p50':>14} {'p95':>7} {'p95 ratio':>9}  found")
    for label, texts in QUERIES.items():
        new, old, found = [], [], {}
        for _ in range(args.rounds):
            for text in texts:
                elapsed, count = timed(new_search, text)
                new.append(elapsed)
                found[text] = count
                old.append(timed(old_icontains, text)[0])
        ratio = percentile(old, 0.95) / percentile(new, 0.95)
        print(
            f"{label:28} {statistics.median(new):8.1f}ms {percentile(new, 0.95):5.1f}ms"
            f" {statistics.median(old):12.1f}ms {percentile(old, 0.95):5.1f}ms {ratio:8.1f}x "
            f" {min(found.values()):,}-{max(found.values()):,}"
        )
    print("\nfound per query (search / icontains):")
    for texts in QUERIES.values():
        print("  " + ", ".join(f"{text} {new_search(text)[0]:,}/{old_icontains(text)[0]:,}" for text in texts))
    print("\nplans (the first page):")
    for texts in QUERIES.values():
        print(f"  {texts[0]}\n{plan_of(texts[0])}")


if __name__ == "__main__":
    main()
