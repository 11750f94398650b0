"""The address book: a customer's shipping addresses, exactly one of them the default."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.fields import DateTimeField

from conftest import client_for
from customers import errors, selectors, services
from customers.models import CustomerAddress
from customers.tests.factories import CustomerAddressFactory, CustomerFactory, UserFactory

ADDRESSES = "/api/v1/customers/me/addresses/"

HOME = {
    "label": "집",
    "recipient": "김민지",
    "phone": "010 1234 5678",
    "postal_code": "06236",
    "road_address": "서울특별시 강남구 테헤란로 152",
    "detail": "12층 1201호",
}
OFFICE = {
    "label": "회사",
    "recipient": "김민지",
    "phone": "02-123-4567",
    "postal_code": "04524",
    "road_address": "서울특별시 중구 세종대로 110",
}


def address_url(address) -> str:
    return f"{ADDRESSES}{address.pk if isinstance(address, CustomerAddress) else address}/"


def default_url(address) -> str:
    return f"{address_url(address)}default/"


def book_of(customer) -> list[tuple[str, bool]]:
    """The customer's book as (label, is_default), in the order the API lists it."""
    return [(a.label, a.is_default) for a in selectors.address_list_for_customer(customer_id=customer.pk)]


def create(customer, **changes) -> CustomerAddress:
    return services.address_create(customer_id=customer.pk, **{**HOME, **changes})


@pytest.fixture
def other_customer(db):
    return CustomerFactory()


@pytest.fixture
def foreign_address(other_customer):
    return CustomerAddressFactory(customer=other_customer, label="남의 집", is_default=True)


# --- services --------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestDefaultAddress:
    def test_the_first_address_becomes_the_default_and_later_ones_do_not(self, customer):
        create(customer, label="집")
        create(customer, label="회사")

        assert book_of(customer) == [("집", True), ("회사", False)]

    def test_an_address_added_as_the_default_takes_over(self, customer):
        create(customer, label="집")

        create(customer, label="회사", is_default=True)

        assert book_of(customer) == [("회사", True), ("집", False)]

    def test_setting_the_default_moves_it(self, customer):
        home = create(customer, label="집")
        office = create(customer, label="회사")

        returned = services.address_set_default(customer_id=customer.pk, address_id=office.pk)

        assert returned.pk == office.pk
        assert returned.is_default is True
        assert book_of(customer) == [("회사", True), ("집", False)]
        home.refresh_from_db()
        assert home.is_default is False

    def test_setting_the_default_again_changes_nothing(self, customer):
        home = create(customer, label="집")
        create(customer, label="회사")

        services.address_set_default(customer_id=customer.pk, address_id=home.pk)

        assert book_of(customer) == [("집", True), ("회사", False)]
        assert CustomerAddress.objects.get(pk=home.pk).updated_at == home.updated_at

    def test_deleting_the_default_makes_the_newest_other_the_default(self, customer):
        home = create(customer, label="집")
        create(customer, label="회사")
        create(customer, label="부모님 댁")

        services.address_delete(customer_id=customer.pk, address_id=home.pk)

        assert book_of(customer) == [("부모님 댁", True), ("회사", False)]

    def test_deleting_another_address_keeps_the_default(self, customer):
        create(customer, label="집")
        office = create(customer, label="회사")
        create(customer, label="부모님 댁")

        services.address_delete(customer_id=customer.pk, address_id=office.pk)

        assert book_of(customer) == [("집", True), ("부모님 댁", False)]

    def test_deleting_the_last_address_leaves_an_empty_book(self, customer):
        home = create(customer)

        services.address_delete(customer_id=customer.pk, address_id=home.pk)

        assert book_of(customer) == []

    def test_a_new_first_address_after_an_empty_book_is_the_default_again(self, customer):
        services.address_delete(customer_id=customer.pk, address_id=create(customer, label="집").pk)

        create(customer, label="회사")

        assert book_of(customer) == [("회사", True)]

    def test_the_default_cannot_be_unset_only_replaced(self, customer):
        home = create(customer, label="집")
        create(customer, label="회사")

        with pytest.raises(errors.AddressDefaultRequired) as refused:
            services.address_update(customer_id=customer.pk, address_id=home.pk, is_default=False, label="본가")

        assert refused.value.field == "is_default"
        assert book_of(customer) == [("집", True), ("회사", False)]

    def test_unsetting_a_non_default_changes_nothing(self, customer):
        create(customer, label="집")
        office = create(customer, label="회사")

        services.address_update(customer_id=customer.pk, address_id=office.pk, is_default=False)

        assert book_of(customer) == [("집", True), ("회사", False)]

    def test_updating_with_is_default_true_moves_the_default(self, customer):
        create(customer, label="집")
        office = create(customer, label="회사")

        services.address_update(customer_id=customer.pk, address_id=office.pk, is_default=True, label="사무실")

        assert book_of(customer) == [("사무실", True), ("집", False)]

    def test_the_database_refuses_a_second_default(self, customer):
        CustomerAddressFactory(customer=customer, is_default=True)

        with pytest.raises(IntegrityError), transaction.atomic():
            CustomerAddressFactory(customer=customer, is_default=True)

        assert CustomerAddress.objects.filter(customer=customer).count() == 1

    def test_each_customer_has_a_default_of_their_own(self, customer, other_customer):
        create(customer, label="집")
        create(other_customer, label="집")

        assert book_of(customer) == [("집", True)]
        assert book_of(other_customer) == [("집", True)]


@pytest.mark.django_db
class TestAddressServices:
    def test_an_address_is_stored_in_its_normal_form(self, customer):
        full_width_digits = str.maketrans("0123456789", "".join(chr(0xFF10 + n) for n in range(10)))
        address = create(customer, phone="+82 10 9876 5432", postal_code="06236".translate(full_width_digits))

        address.refresh_from_db()
        assert (address.phone, address.postal_code) == ("010-9876-5432", "06236")
        assert (address.label, address.recipient, address.road_address, address.detail) == (
            "집",
            "김민지",
            "서울특별시 강남구 테헤란로 152",
            "12층 1201호",
        )

    @pytest.mark.parametrize(
        ("field", "value", "error"),
        [("phone", "010-12", errors.PhoneInvalid), ("postal_code", "135-080", errors.PostalCodeInvalid)],
    )
    def test_a_bad_phone_or_postal_code_is_refused_naming_the_field(self, customer, field, value, error):
        with pytest.raises(error) as refused:
            create(customer, **{field: value})

        assert refused.value.field == field
        assert CustomerAddress.objects.count() == 0

    def test_an_update_changes_only_the_fields_given(self, customer):
        address = create(customer)

        services.address_update(customer_id=customer.pk, address_id=address.pk, phone="0311234567", detail="")

        address.refresh_from_db()
        assert (address.phone, address.detail, address.label, address.road_address) == (
            "031-123-4567",
            "",
            "집",
            "서울특별시 강남구 테헤란로 152",
        )

    def test_an_update_with_a_bad_phone_changes_nothing(self, customer):
        address = create(customer)

        with pytest.raises(errors.PhoneInvalid):
            services.address_update(customer_id=customer.pk, address_id=address.pk, phone="12", label="회사")

        address.refresh_from_db()
        assert (address.phone, address.label) == ("010-1234-5678", "집")

    def test_an_update_of_an_unknown_field_is_a_programming_error(self, customer):
        address = create(customer)

        with pytest.raises(TypeError, match="customer"):
            services.address_update(customer_id=customer.pk, address_id=address.pk, customer=None)

    def test_the_book_is_limited(self, customer, settings):
        settings.CUSTOMER_MAX_ADDRESSES = 3
        for label in ["집", "회사", "부모님 댁"]:
            create(customer, label=label)

        with pytest.raises(errors.AddressLimitReached) as refused:
            create(customer, label="친구 집", is_default=True)

        assert refused.value.context == {"limit": 3}
        assert "3 addresses" in refused.value.message
        assert book_of(customer) == [("집", True), ("부모님 댁", False), ("회사", False)]

    def test_a_deleted_address_frees_a_place(self, customer, settings):
        settings.CUSTOMER_MAX_ADDRESSES = 2
        home = create(customer, label="집")
        create(customer, label="회사")
        services.address_delete(customer_id=customer.pk, address_id=home.pk)

        create(customer, label="부모님 댁")

        assert book_of(customer) == [("회사", True), ("부모님 댁", False)]

    def test_another_customers_address_is_not_found_and_stays_as_it_was(self, customer, foreign_address):
        calls = [
            lambda: selectors.address_get_for_customer(customer_id=customer.pk, address_id=foreign_address.pk),
            lambda: services.address_update(customer_id=customer.pk, address_id=foreign_address.pk, label="내 집"),
            lambda: services.address_set_default(customer_id=customer.pk, address_id=foreign_address.pk),
            lambda: services.address_delete(customer_id=customer.pk, address_id=foreign_address.pk),
        ]
        for call in calls:
            with pytest.raises(errors.AddressNotFound):
                call()

        foreign_address.refresh_from_db()
        assert (foreign_address.label, foreign_address.is_default) == ("남의 집", True)

    def test_an_unknown_customer_has_no_book_to_write(self):
        with pytest.raises(errors.CustomerNotFound):
            services.address_create(customer_id=uuid.uuid4(), **HOME)

        assert CustomerAddress.objects.count() == 0


# --- API -------------------------------------------------------------------------------------------


def as_listed(address: CustomerAddress) -> dict:
    return {
        "id": str(address.pk),
        "label": address.label,
        "recipient": address.recipient,
        "phone": address.phone,
        "postal_code": address.postal_code,
        "road_address": address.road_address,
        "detail": address.detail,
        "is_default": address.is_default,
        "created_at": DateTimeField().to_representation(address.created_at),
        "updated_at": DateTimeField().to_representation(address.updated_at),
    }


@pytest.mark.django_db
class TestAddressApi:
    def test_adding_an_address(self, customer, customer_client):
        response = customer_client.post(ADDRESSES, HOME, format="json")

        assert response.status_code == 201, response.content
        address = CustomerAddress.objects.get(customer=customer)
        assert response.json() == as_listed(address)
        assert response.json() | {"id": None, "created_at": None, "updated_at": None} == {
            "id": None,
            "label": "집",
            "recipient": "김민지",
            "phone": "010-1234-5678",
            "postal_code": "06236",
            "road_address": "서울특별시 강남구 테헤란로 152",
            "detail": "12층 1201호",
            "is_default": True,
            "created_at": None,
            "updated_at": None,
        }

    def test_label_and_detail_may_be_left_out(self, customer_client):
        response = customer_client.post(ADDRESSES, OFFICE, format="json")
        bare = customer_client.post(ADDRESSES, {k: v for k, v in OFFICE.items() if k != "label"}, format="json")

        assert response.status_code == 201, response.content
        assert response.json()["detail"] == ""
        assert bare.status_code == 201, bare.content
        assert (bare.json()["label"], bare.json()["detail"], bare.json()["is_default"]) == ("", "", False)

    @pytest.mark.parametrize(
        ("change", "field", "code"),
        [
            ({"phone": "010-1234"}, "phone", "invalid_phone"),
            ({"phone": "+1 212 555 0100"}, "phone", "invalid_phone"),
            ({"phone": ""}, "phone", "blank"),
            ({"postal_code": "135-080"}, "postal_code", "invalid_postal_code"),
            ({"postal_code": "1234"}, "postal_code", "invalid_postal_code"),
            ({"recipient": ""}, "recipient", "blank"),
            ({"recipient": "가" * 51}, "recipient", "max_length"),
            ({"road_address": "가" * 201}, "road_address", "max_length"),
            ({"detail": "가" * 101}, "detail", "max_length"),
            ({"label": "가" * 31}, "label", "max_length"),
            ({"is_default": "maybe"}, "is_default", "invalid"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, customer_client, change, field, code):
        response = customer_client.post(ADDRESSES, HOME | change, format="json")

        assert response.status_code == 400
        assert response.json()["code"] == "validation_error"
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
        assert CustomerAddress.objects.count() == 0

    def test_a_missing_field_is_named(self, customer_client):
        response = customer_client.post(ADDRESSES, {"label": "집"}, format="json")

        assert response.status_code == 400
        assert sorted((e["field"], e["code"]) for e in response.json()["errors"]) == [
            ("phone", "required"),
            ("postal_code", "required"),
            ("recipient", "required"),
            ("road_address", "required"),
        ]

    def test_the_list_shows_the_default_first_then_the_newest(
        self, customer, customer_client, foreign_address, django_assert_num_queries
    ):
        home = create(customer, label="집")
        office = create(customer, label="회사")
        parents = create(customer, label="부모님 댁")

        with django_assert_num_queries(3):  # the user (JWT), the customer, the addresses
            response = customer_client.get(ADDRESSES)

        assert response.status_code == 200
        assert response.json() == [as_listed(home), as_listed(parents), as_listed(office)]

    def test_an_empty_book(self, customer_client):
        response = customer_client.get(ADDRESSES)

        assert (response.status_code, response.json()) == (200, [])

    def test_the_list_costs_the_same_for_a_full_book(
        self, customer, customer_client, settings, django_assert_num_queries
    ):
        for n in range(settings.CUSTOMER_MAX_ADDRESSES):
            create(customer, label=f"주소 {n}")

        with django_assert_num_queries(3):
            response = customer_client.get(ADDRESSES)

        assert len(response.json()) == settings.CUSTOMER_MAX_ADDRESSES == 20

    def test_reading_one_address(self, customer, customer_client, django_assert_num_queries):
        address = create(customer)

        with django_assert_num_queries(3):  # the user (JWT), the customer, the address
            response = customer_client.get(address_url(address))

        assert (response.status_code, response.json()) == (200, as_listed(address))

    def test_a_partial_update(self, customer, customer_client):
        address = create(customer)

        response = customer_client.patch(
            address_url(address), {"phone": "01098765432", "detail": "13층"}, format="json"
        )

        assert response.status_code == 200, response.content
        address.refresh_from_db()
        assert response.json() == as_listed(address)
        assert (address.phone, address.detail, address.label, address.postal_code, address.is_default) == (
            "010-9876-5432",
            "13층",
            "집",
            "06236",
            True,
        )

    def test_an_update_with_a_bad_postal_code_is_a_400_and_changes_nothing(self, customer, customer_client):
        address = create(customer)

        response = customer_client.patch(address_url(address), {"postal_code": "abcde", "label": "회사"}, format="json")

        assert response.status_code == 400
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("postal_code", "invalid_postal_code")]
        address.refresh_from_db()
        assert (address.postal_code, address.label) == ("06236", "집")

    def test_unsetting_the_default_is_a_409(self, customer, customer_client):
        address = create(customer)

        response = customer_client.patch(address_url(address), {"is_default": False}, format="json")

        assert response.status_code == 409
        assert response.json()["code"] == "address_default_required"
        assert [e["field"] for e in response.json()["errors"]] == ["is_default"]
        address.refresh_from_db()
        assert address.is_default is True

    def test_making_another_address_the_default(self, customer, customer_client):
        create(customer, label="집")
        office = create(customer, label="회사")

        response = customer_client.post(default_url(office))

        assert response.status_code == 200, response.content
        assert (response.json()["id"], response.json()["is_default"]) == (str(office.pk), True)
        assert book_of(customer) == [("회사", True), ("집", False)]

    def test_deleting_the_default(self, customer, customer_client):
        home = create(customer, label="집")
        create(customer, label="회사")

        response = customer_client.delete(address_url(home))

        assert response.status_code == 204
        assert book_of(customer) == [("회사", True)]

    def test_the_book_is_full(self, customer, customer_client, settings):
        settings.CUSTOMER_MAX_ADDRESSES = 2
        create(customer, label="집")
        create(customer, label="회사")

        response = customer_client.post(ADDRESSES, HOME | {"label": "부모님 댁"}, format="json")

        assert response.status_code == 409
        assert response.json()["code"] == "address_limit_reached"
        assert response.json()["message"] == "The address book is full (2 addresses): delete one before adding another."
        assert book_of(customer) == [("집", True), ("회사", False)]

    @pytest.mark.parametrize(
        ("method", "url", "body"),
        [
            ("get", address_url, None),
            ("patch", address_url, {"label": "내 집"}),
            ("delete", address_url, None),
            ("post", default_url, None),
        ],
    )
    def test_another_customers_address_is_a_404(self, customer_client, foreign_address, method, url, body):
        response = getattr(customer_client, method)(url(foreign_address), body, format="json")

        assert response.status_code == 404
        assert response.json()["code"] == "address_not_found"
        foreign_address.refresh_from_db()
        assert (foreign_address.label, foreign_address.is_default) == ("남의 집", True)

    def test_an_unknown_address_is_a_404(self, customer_client):
        response = customer_client.get(address_url(uuid.uuid4()))

        assert (response.status_code, response.json()["code"]) == (404, "address_not_found")

    def test_signing_in_is_required(self, api_client):
        response = api_client.get(ADDRESSES)

        assert response.status_code == 401

    def test_staff_without_a_profile_have_no_address_book(self, staff_client):
        response = staff_client.post(ADDRESSES, HOME, format="json")

        assert (response.status_code, response.json()["code"]) == (404, "customer_not_found")
        assert CustomerAddress.objects.count() == 0

    def test_an_inactive_login_cannot_use_its_book(self, db):
        customer = CustomerFactory(user=UserFactory(is_active=False))

        response = client_for(customer.user).get(ADDRESSES)

        assert response.status_code == 401


@pytest.mark.django_db
class TestAddressWriteBudgets:
    """Writes hold the customer's row (one query) and touch only the rows that change."""

    def test_adding_the_first_address(self, customer, customer_client, django_assert_num_queries):
        # the user (JWT), the customer, savepoint, lock, count, insert, release
        with django_assert_num_queries(7):
            response = customer_client.post(ADDRESSES, HOME, format="json")

        assert response.status_code == 201

    def test_adding_a_new_default(self, customer, customer_client, django_assert_num_queries):
        create(customer)

        # ... and the old default unset
        with django_assert_num_queries(8):
            response = customer_client.post(ADDRESSES, OFFICE | {"is_default": True}, format="json")

        assert response.status_code == 201

    def test_setting_the_default(self, customer, customer_client, django_assert_num_queries):
        create(customer)
        office = create(customer, label="회사")

        # the user, the customer, savepoint, lock, the address, unset the old default, save, release
        with django_assert_num_queries(8):
            response = customer_client.post(default_url(office))

        assert response.status_code == 200

    def test_deleting_the_default(self, customer, customer_client, django_assert_num_queries):
        home = create(customer)
        create(customer, label="회사")

        # the user, the customer, savepoint, lock, the address, delete, the newest other, save, release
        with django_assert_num_queries(9):
            response = customer_client.delete(address_url(home))

        assert response.status_code == 204


# --- admin -----------------------------------------------------------------------------------------


@pytest.fixture
def staff_browser(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def admin_page(client, customer) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.mark.django_db
def test_the_customer_admin_shows_the_address_book_to_read(staff_browser, customer, other_customer):
    create(customer, label="집", road_address="서울특별시 강남구 테헤란로 152")
    create(customer, label="회사", road_address="서울특별시 중구 세종대로 110", is_default=True)
    for n in range(6):
        create(other_customer, label=f"주소 {n}")
    admin_page(staff_browser, customer)  # warm the per-process caches (content types, permissions)

    html, queries = admin_page(staff_browser, customer)
    _, queries_for_a_longer_book = admin_page(staff_browser, other_customer)

    assert html.index("세종대로 110") < html.index("테헤란로 152")  # the default first
    assert html.count('alt="True"') == 1  # one default, marked
    assert 'name="addresses-0-recipient"' not in html  # read only: no inputs, no add row, no delete box
    assert "addresses-__prefix__" not in html
    assert "addresses-0-DELETE" not in html
    assert queries_for_a_longer_book == queries
