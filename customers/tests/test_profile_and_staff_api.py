"""The cached `me` profile and its invalidation; staff list, search and CRUD of customers."""

import pytest

from conftest import client_for
from customers.models import Customer, User

pytestmark = pytest.mark.django_db

ME = "/api/v1/customers/me/"
STAFF = "/api/v1/customers/staff/"


def test_me_is_cached_and_refreshed_after_an_update(
    customer_client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_num_queries(3):  # the user (JWT), invalidations left over (c4ang.cache), the customer
        first = customer_client.get(ME)
    with django_assert_num_queries(1):  # the user only: the profile comes from the cache
        assert customer_client.get(ME).json() == first.json()

    with django_capture_on_commit_callbacks(execute=True):
        customer_client.patch(ME, {"name": "이서연"}, format="json")

    assert customer_client.get(ME).json()["name"] == "이서연"


def test_staff_list_and_search(staff_client, customer_factory, django_assert_num_queries):
    customer_factory(name="김민지", email="minji@example.kr", phone="010-1111-2222")
    customer_factory(name="박서준", email="seojun@example.kr", phone="010-3333-4444")

    with django_assert_num_queries(3):  # staff user, count, page (with logins)
        everyone = staff_client.get(STAFF)
    by_name = staff_client.get(STAFF, {"search": "서준"})
    by_phone = staff_client.get(STAFF, {"search": "1111"})

    assert everyone.json()["count"] == 2
    assert [c["name"] for c in by_name.json()["results"]] == ["박서준"]
    assert [c["email"] for c in by_phone.json()["results"]] == ["minji@example.kr"]
    assert by_phone.json()["results"][0]["is_active"] is True


def test_staff_create_read_update_and_deactivate(staff_client, api_client, django_capture_on_commit_callbacks):
    created = staff_client.post(
        STAFF, {"email": "New@Example.kr", "password": "correct horse battery staple", "name": "신규"}, format="json"
    )
    url = f"{STAFF}{created.json()['id']}/"

    updated = staff_client.patch(url, {"phone": "02-555-0000"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        deleted = staff_client.delete(url)
    sign_in = api_client.post(
        "/api/v1/customers/token/",
        {"email": "new@example.kr", "password": "correct horse battery staple"},
        format="json",
    )

    assert created.status_code == 201
    assert created.json()["email"] == "new@example.kr"
    assert updated.json()["phone"] == "02-555-0000"
    assert deleted.status_code == 204
    assert staff_client.get(url).json()["is_active"] is False
    assert sign_in.status_code == 401
    # The customer row stays: orders and payments refer to it.
    assert Customer.objects.filter(email="new@example.kr").exists()
    reactivated = staff_client.patch(url, {"is_active": True}, format="json")
    assert reactivated.json()["is_active"] is True


def test_staff_endpoints_refuse_customers_and_strangers(customer_client, api_client, customer):
    assert customer_client.get(STAFF).status_code == 403
    assert customer_client.patch(f"{STAFF}{customer.pk}/", {"name": "해커"}, format="json").status_code == 403
    assert customer_client.delete(f"{STAFF}{customer.pk}/").status_code == 403
    assert api_client.get(STAFF).status_code == 401
    customer.refresh_from_db()
    assert customer.name != "해커"
    assert User.objects.get(pk=customer.user_id).is_active is True


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [
        ("patch", {"phone": "call me"}, 400),
        ("patch", {"is_active": "maybe"}, 400),
        ("patch", {"name": ["x"]}, 400),
    ],
)
def test_bad_staff_updates_are_400(staff_client, customer, method, body, status):
    response = getattr(staff_client, method)(f"{STAFF}{customer.pk}/", body, format="json")

    assert response.status_code == status
    assert Customer.objects.get(pk=customer.pk).name == customer.name


def test_unknown_customer_is_404_for_staff(staff_client):
    assert staff_client.get(f"{STAFF}00000000-0000-0000-0000-000000000000/").status_code == 404


def test_deactivated_customer_cannot_use_the_token_they_had(customer_factory, staff_client, product_factory):
    customer = customer_factory()
    client = client_for(customer.user)
    staff_client.delete(f"{STAFF}{customer.pk}/")

    response = client.get(ME)

    assert response.status_code == 401
