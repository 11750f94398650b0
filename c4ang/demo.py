"""Synthetic Korean shop data: the catalog and the labelled reviews of the demo data.

The same review generator feeds `seed_demo_data` and the training set of the demo sentiment
model, so the demo model has seen the kind of text the demo shop contains. Deterministic for a
given random.Random.
"""

import random
from dataclasses import dataclass
from decimal import Decimal

# category -> (brands, product nouns, price range in KRW)
CATALOG: dict[str, tuple[list[str], list[str], tuple[int, int]]] = {
    "전자제품": (
        ["삼성", "LG", "소니", "애플", "샤오미"],
        ["무선 이어폰", "블루투스 스피커", "스마트워치", "태블릿", "보조배터리"],
        (19_000, 1_290_000),
    ),
    "패션": (
        ["무신사 스탠다드", "유니클로", "나이키", "아디다스", "뉴발란스"],
        ["후드티", "청바지", "운동화", "패딩 점퍼", "맨투맨"],
        (15_000, 329_000),
    ),
    "뷰티": (
        ["이니스프리", "설화수", "라네즈", "에뛰드", "닥터자르트"],
        ["수분 크림", "선크림", "클렌징 폼", "립스틱", "에센스"],
        (8_000, 180_000),
    ),
    "식품": (
        ["CJ제일제당", "농심", "오뚜기", "풀무원", "동원"],
        ["즉석밥", "라면 묶음", "김치", "견과류 세트", "참치캔 세트"],
        (3_000, 59_000),
    ),
    "생활용품": (
        ["다이소", "락앤락", "코멧", "깨끗한나라", "쿠쿠"],
        ["밀폐 용기", "전기밥솥", "화장지", "수건 세트", "텀블러"],
        (2_000, 390_000),
    ),
    "도서": (
        ["민음사", "문학동네", "창비", "위즈덤하우스", "한빛미디어"],
        ["장편소설", "에세이", "자기계발서", "프로그래밍 입문서", "그림책"],
        (9_000, 45_000),
    ),
    "스포츠": (
        ["나이키", "아디다스", "데상트", "휠라", "코오롱스포츠"],
        ["요가 매트", "덤벨 세트", "러닝화", "등산 배낭", "자전거 헬멧"],
        (12_000, 420_000),
    ),
}
MODIFIERS = ["프리미엄", "베이직", "2026년형", "대용량", "미니", "슬림", "프로", "에디션", "오리지널", "라이트"]

POSITIVE_PHRASES = [
    "정말 만족스러워요",
    "배송이 빨라서 좋았어요",
    "품질이 기대 이상입니다",
    "가격 대비 최고예요",
    "재구매 의사 있어요",
    "디자인이 예뻐요",
    "가족들도 다 좋아해요",
    "포장이 꼼꼼했어요",
    "사용하기 편해요",
    "추천합니다",
    "튼튼하고 좋아요",
    "색감이 사진이랑 똑같아요",
]
NEGATIVE_PHRASES = [
    "너무 실망했어요",
    "배송이 늦었어요",
    "품질이 별로예요",
    "돈이 아까워요",
    "다시는 안 살 거예요",
    "사진이랑 달라요",
    "금방 고장 났어요",
    "포장이 엉망이었어요",
    "사용하기 불편해요",
    "비추천합니다",
    "냄새가 심해요",
    "환불하고 싶어요",
]
NEUTRAL_PHRASES = ["보통이에요", "그냥 그래요", "무난합니다", "쓸만해요", "가격만큼 해요"]
OPENERS = ["", "", "솔직히 ", "처음 사봤는데 ", "선물용으로 샀는데 ", "두 번째 구매인데 ", "할인할 때 샀는데 "]


@dataclass(frozen=True)
class DemoProduct:
    category: str
    brand: str
    name: str
    price: Decimal
    stock: int


@dataclass(frozen=True)
class DemoReview:
    content: str
    rating: int
    label: int  # 1 positive, 0 negative; neutral reviews are not used as training data


def demo_product(rng: random.Random) -> DemoProduct:
    category = rng.choice(list(CATALOG))
    brands, nouns, (low, high) = CATALOG[category]
    brand = rng.choice(brands)
    name = f"{brand} {rng.choice(MODIFIERS)} {rng.choice(nouns)}"
    # Korean shop prices end in hundreds of won.
    price = Decimal(rng.randrange(low // 100, high // 100 + 1) * 100)
    return DemoProduct(category=category, brand=brand, name=name, price=price, stock=rng.choice([0, 3, 10, 50, 200]))


def demo_review(rng: random.Random, *, positive: bool | None = None) -> DemoReview:
    """A review with its sentiment: positive=None draws one (60% positive, 30% negative, 10% neutral)."""
    if positive is None:
        draw = rng.random()
        if draw >= 0.9:
            phrases = rng.sample(NEUTRAL_PHRASES, 2)
            return DemoReview(content=rng.choice(OPENERS) + " ".join(phrases), rating=3, label=-1)
        positive = draw < 0.6
    pool = POSITIVE_PHRASES if positive else NEGATIVE_PHRASES
    content = rng.choice(OPENERS) + " ".join(rng.sample(pool, rng.randint(1, 3)))
    rating = rng.choice([4, 5]) if positive else rng.choice([1, 2])
    return DemoReview(content=content, rating=rating, label=1 if positive else 0)


def labelled_reviews(rng: random.Random, count: int) -> list[DemoReview]:
    """Balanced positive/negative reviews for training or evaluating a sentiment model."""
    return [demo_review(rng, positive=index % 2 == 0) for index in range(count)]


# (postal code, road address): real streets of Korean cities; the building numbers are made up.
STREETS = [
    ("06236", "서울특별시 강남구 테헤란로"),
    ("04524", "서울특별시 중구 세종대로"),
    ("03925", "서울특별시 마포구 월드컵북로"),
    ("05551", "서울특별시 송파구 올림픽로"),
    ("13494", "경기도 성남시 분당구 판교역로"),
    ("16489", "경기도 수원시 팔달구 효원로"),
    ("48058", "부산광역시 해운대구 센텀중앙로"),
    ("41911", "대구광역시 중구 동성로"),
    ("21999", "인천광역시 연수구 컨벤시아대로"),
    ("61945", "광주광역시 서구 상무중앙로"),
    ("34126", "대전광역시 유성구 대학로"),
    ("63122", "제주특별자치도 제주시 노형로"),
]
DELIVERY_MEMOS = [
    "",
    "",
    "문 앞에 놓아주세요",
    "경비실에 맡겨주세요",
    "배송 전에 연락 주세요",
    "부재 시 택배함에 넣어주세요",
]


@dataclass(frozen=True)
class DemoAddress:
    label: str
    postal_code: str
    road_address: str
    detail: str


def demo_address(rng: random.Random, *, label: str) -> DemoAddress:
    postal_code, street = rng.choice(STREETS)
    detail = (
        f"{rng.randint(101, 120)}동 {rng.randint(1, 25)}{rng.randint(1, 4):02d}호"
        if label == "집"
        else f"{rng.randint(2, 20)}층"
    )
    return DemoAddress(
        label=label, postal_code=postal_code, road_address=f"{street} {rng.randint(1, 300)}", detail=detail
    )
