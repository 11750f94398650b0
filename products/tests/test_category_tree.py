"""The category tree: paths and depths kept by the services (create, move, rename), cycles and too deep
a tree refused, the tree listed in order, a category filter that includes the descendants in one
query, the cache after a move or a rename, the admin, the migration's backfill, and racing moves."""

import uuid

import pytest
from django.urls import reverse

from conftest import in_threads, migrate
from products import services
from products.errors import CategoryCycle
from products.models import Category
from products.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
STAFF_CATEGORIES = f"{PRODUCTS}staff/categories/"


def create(staff_client, name: str, parent: dict | None = None) -> dict:
    response = staff_client.post(STAFF_CATEGORIES, {"name": name, "parent_id": parent["id"] if parent else None})
    assert response.status_code == 201, response.content
    return response.json()


def paths() -> dict[str, tuple[str, int]]:
    """Every category's path spelled with names, and its depth."""
    names = dict(Category.objects.values_list("pk", "name"))

    def spelled(path: str) -> str:
        return "/".join(names[uuid.UUID(part)] for part in path.strip("/").split("/"))

    return {category.name: (spelled(category.path), category.depth) for category in Category.objects.all()}


@pytest.fixture
def tree(staff_client):
    """전자제품 > 음향기기 > 이어폰류, 전자제품 > 컴퓨터, 도서 (through the staff API)."""
    electronics = create(staff_client, "전자제품")
    audio = create(staff_client, "음향기기", electronics)
    return {
        "전자제품": electronics,
        "음향기기": audio,
        "이어폰류": create(staff_client, "이어폰류", audio),
        "컴퓨터": create(staff_client, "컴퓨터", electronics),
        "도서": create(staff_client, "도서"),
    }


def test_created_categories_have_their_path_and_the_list_is_the_tree_in_order(api_client, tree):
    electronics, audio, earphones = tree["전자제품"], tree["음향기기"], tree["이어폰류"]

    listed = api_client.get(f"{PRODUCTS}categories/").json()["results"]

    assert earphones["path"] == f"/{electronics['id']}/{audio['id']}/{earphones['id']}/"
    assert (earphones["depth"], earphones["parent_id"]) == (2, audio["id"])
    assert [(c["name"], c["depth"]) for c in listed] == [
        ("도서", 0),
        ("전자제품", 0),
        ("음향기기", 1),
        ("이어폰류", 2),
        ("컴퓨터", 1),
    ]
    assert listed[3] == earphones


def test_moving_a_category_rewrites_its_whole_subtree(staff_client, tree):
    moved = staff_client.patch(
        f"{STAFF_CATEGORIES}{tree['음향기기']['id']}/", {"parent_id": tree["도서"]["id"]}, format="json"
    )
    to_root = staff_client.patch(f"{STAFF_CATEGORIES}{tree['컴퓨터']['id']}/", {"parent_id": None}, format="json")

    assert moved.status_code == to_root.status_code == 200
    assert (moved.json()["depth"], moved.json()["parent_id"]) == (1, tree["도서"]["id"])
    assert paths() == {
        "전자제품": ("전자제품", 0),
        "도서": ("도서", 0),
        "음향기기": ("도서/음향기기", 1),
        "이어폰류": ("도서/음향기기/이어폰류", 2),
        "컴퓨터": ("컴퓨터", 0),
    }


@pytest.mark.parametrize(
    ("category", "parent", "status", "code"),
    [
        ("전자제품", "이어폰류", 409, "category_cycle"),  # under its own grandchild
        ("음향기기", "음향기기", 409, "category_cycle"),  # under itself
        ("음향기기", None, 404, "category_not_found"),  # an unknown parent
    ],
)
def test_a_move_into_a_cycle_or_under_an_unknown_parent_is_refused_and_changes_nothing(
    staff_client, tree, category, parent, status, code
):
    before = paths()
    parent_id = tree[parent]["id"] if parent else "00000000-0000-0000-0000-000000000000"

    response = staff_client.patch(f"{STAFF_CATEGORIES}{tree[category]['id']}/", {"parent_id": parent_id}, format="json")

    assert response.status_code == status
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("parent_id", code)]
    assert paths() == before


def test_the_tree_is_at_most_ten_levels_deep(staff_client, tree):
    chain = [tree["도서"]]
    for level in range(1, services.CATEGORY_MAX_DEPTH):
        chain.append(create(staff_client, f"도서 {level}단계", chain[-1]))
    before = paths()

    eleventh = staff_client.post(STAFF_CATEGORIES, {"name": "너무 깊은", "parent_id": chain[-1]["id"]})
    # 음향기기 has a child: under the 9th level its child would be the 11th
    moved = staff_client.patch(
        f"{STAFF_CATEGORIES}{tree['음향기기']['id']}/", {"parent_id": chain[-2]["id"]}, format="json"
    )

    assert chain[-1]["depth"] == services.CATEGORY_MAX_DEPTH - 1
    assert (eleventh.status_code, eleventh.json()["code"]) == (409, "category_too_deep")
    assert (moved.status_code, moved.json()["code"]) == (409, "category_too_deep")
    assert paths() == before


def test_a_rename_to_a_taken_name_is_a_conflict(staff_client, tree):
    response = staff_client.patch(f"{STAFF_CATEGORIES}{tree['컴퓨터']['id']}/", {"name": "도서"}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "category_already_exists")
    assert Category.objects.filter(name="도서").count() == 1


def test_customers_cannot_change_the_tree(customer_client, tree):
    response = customer_client.patch(f"{STAFF_CATEGORIES}{tree['컴퓨터']['id']}/", {"parent_id": None}, format="json")

    assert response.status_code == 403
    assert Category.objects.get(name="컴퓨터").depth == 1


def test_a_category_filter_includes_the_descendants_in_one_query(api_client, tree, django_assert_num_queries):
    for name in ("전자제품", "음향기기", "이어폰류", "컴퓨터", "도서"):
        ProductFactory(name=f"{name} 상품", category=Category.objects.get(name=name))

    def listed(category: str) -> list[str]:
        response = api_client.get(PRODUCTS, {"category": tree[category]["id"], "ordering": "name"})
        return [product["name"] for product in response.json()["results"]]

    # invalidations left over (c4ang.cache.trusted), count, page (the subtree a subquery), images
    with django_assert_num_queries(4):
        electronics = listed("전자제품")

    assert electronics == ["음향기기 상품", "이어폰류 상품", "전자제품 상품", "컴퓨터 상품"]
    assert listed("음향기기") == ["음향기기 상품", "이어폰류 상품"]
    assert listed("이어폰류") == ["이어폰류 상품"]
    unknown = api_client.get(PRODUCTS, {"category": "00000000-0000-0000-0000-000000000000"})
    assert (unknown.status_code, unknown.json()["count"]) == (200, 0)


def test_a_category_made_around_the_services_is_filtered_by_its_own_id(api_client):
    # A row without its path (written by SQL or a fixture): its own products still, and the next
    # tree write through the services repairs it.
    legacy = Category.objects.create(name="레거시")
    ProductFactory(name="레거시 상품", category=legacy)

    listed = api_client.get(PRODUCTS, {"category": str(legacy.pk)}).json()["results"]
    child = services.category_create(name="레거시 하위", parent_id=legacy.pk)

    assert [product["name"] for product in listed] == ["레거시 상품"]
    assert child.path == f"/{legacy.pk}/{child.pk}/"
    assert Category.objects.get(pk=legacy.pk).path == f"/{legacy.pk}/"


def test_a_move_refreshes_the_cached_filtered_pages_and_a_rename_the_details(
    api_client, staff_client, tree, django_capture_on_commit_callbacks
):
    earphones = ProductFactory(name="무선 이어폰", category=Category.objects.get(name="이어폰류"))
    electronics = {"category": tree["전자제품"]["id"]}
    assert api_client.get(PRODUCTS, electronics).json()["count"] == 1  # now cached
    assert api_client.get(f"{PRODUCTS}{earphones.pk}/").json()["category"]["name"] == "이어폰류"

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.patch(f"{STAFF_CATEGORIES}{tree['음향기기']['id']}/", {"parent_id": tree["도서"]["id"]})
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.patch(f"{STAFF_CATEGORIES}{tree['이어폰류']['id']}/", {"name": "이어폰"})

    assert api_client.get(PRODUCTS, electronics).json()["count"] == 0
    assert api_client.get(PRODUCTS, {"category": tree["도서"]["id"]}).json()["count"] == 1
    assert api_client.get(f"{PRODUCTS}{earphones.pk}/").json()["category"]["name"] == "이어폰"


@pytest.fixture
def staff_browser(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_the_admin_moves_through_the_service_and_refuses_a_cycle(staff_browser, tree):
    audio = Category.objects.get(name="음향기기")
    url = reverse("admin:products_category_change", args=[audio.pk])
    books = Category.objects.get(name="도서")
    earphones = Category.objects.get(name="이어폰류")

    cycle = staff_browser.post(url, {"name": "음향기기", "parent": str(earphones.pk)})
    before = paths()
    moved = staff_browser.post(url, {"name": "음향기기", "parent": str(books.pk)})
    added = staff_browser.post(reverse("admin:products_category_add"), {"name": "헤드폰류", "parent": str(audio.pk)})

    assert cycle.status_code == 200  # the form again, with its error
    assert "cannot be moved under itself" in cycle.content.decode()
    assert before["음향기기"] == ("전자제품/음향기기", 1)
    assert (moved.status_code, added.status_code) == (302, 302)
    assert paths()["이어폰류"] == ("도서/음향기기/이어폰류", 2)
    assert paths()["헤드폰류"] == ("도서/음향기기/헤드폰류", 2)
    assert staff_browser.get(reverse("admin:products_category_changelist")).status_code == 200


def test_factories_place_their_categories_in_the_tree():
    child = CategoryFactory(name="노트북", parent=CategoryFactory(name="컴퓨터"))

    assert (child.path, child.depth) == (f"/{child.parent_id}/{child.pk}/", 1)


MIGRATED = [("products", "0007_category_paths_and_search_index")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_categories_their_paths(latest_schema_after):
    old = migrate([("products", "0006_images_and_category_tree")])
    OldCategory = old.get_model("products", "Category")
    root = OldCategory.objects.create(name="패션")
    child = OldCategory.objects.create(name="신발", parent=root)
    grandchild = OldCategory.objects.create(name="운동화", parent=child)
    other = OldCategory.objects.create(name="식품")

    new = migrate(MIGRATED)

    rows = dict(new.get_model("products", "Category").objects.values_list("name", "path"))
    assert rows == {
        "패션": f"/{root.pk}/",
        "신발": f"/{root.pk}/{child.pk}/",
        "운동화": f"/{root.pk}/{child.pk}/{grandchild.pk}/",
        "식품": f"/{other.pk}/",
    }
    depths = dict(new.get_model("products", "Category").objects.values_list("name", "depth"))
    assert depths == {"패션": 0, "신발": 1, "운동화": 2, "식품": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_moves_racing_into_a_cycle_leave_a_tree():
    # A under B and B under A at once: each alone is fine, both would be a cycle.
    a = services.category_create(name="분류 A")
    b = services.category_create(name="분류 B")

    def move(category, parent):
        def call():
            try:
                return services.category_update(category_id=category.pk, parent_id=parent.pk).parent_id
            except CategoryCycle:
                return "cycle"

        return call

    outcomes = in_threads([move(a, b), move(b, a)] * 3)

    # The first move wins; its repeats change nothing, and every move the other way is a cycle.
    rows = {row.name: row for row in Category.objects.all()}
    child, root = (rows["분류 A"], rows["분류 B"]) if rows["분류 A"].parent_id else (rows["분류 B"], rows["분류 A"])
    assert sorted(map(str, outcomes)) == sorted([str(root.pk)] * 3 + ["cycle"] * 3)
    assert (child.parent_id, root.parent_id) == (root.pk, None)
    assert (child.path, child.depth, root.path, root.depth) == (f"/{root.pk}/{child.pk}/", 1, f"/{root.pk}/", 0)
