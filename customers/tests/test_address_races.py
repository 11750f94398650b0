"""Concurrent changes to one address book run one after the other (the customer's row is locked):
real threads on PostgreSQL, each with its own connection, through the API."""

import pytest

from conftest import client_for, in_threads
from customers import services
from customers.models import CustomerAddress

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADDRESSES = "/api/v1/customers/me/addresses/"
THREADS = 8
ADDRESS = {
    "recipient": "김민지",
    "phone": "010-1234-5678",
    "postal_code": "06236",
    "road_address": "서울특별시 강남구 테헤란로 152",
}


def test_concurrent_set_defaults_end_with_exactly_one_default(customer):
    addresses = [services.address_create(customer_id=customer.pk, label=f"주소 {n}", **ADDRESS) for n in range(THREADS)]
    clients = [client_for(customer.user) for _ in addresses]

    responses = in_threads(
        [
            lambda client=client, address=address: client.post(f"{ADDRESSES}{address.pk}/default/")
            for client, address in zip(clients, addresses, strict=True)
        ]
    )

    assert [r.status_code for r in responses] == [200] * THREADS, [r.content for r in responses]
    assert CustomerAddress.objects.filter(customer=customer, is_default=True).count() == 1


def test_concurrent_first_addresses_make_one_default(customer):
    clients = [client_for(customer.user) for _ in range(THREADS)]

    responses = in_threads(
        [
            lambda client=client, n=n: client.post(ADDRESSES, ADDRESS | {"label": f"주소 {n}"}, format="json")
            for n, client in enumerate(clients)
        ]
    )

    assert [r.status_code for r in responses] == [201] * THREADS, [r.content for r in responses]
    assert [r.json()["is_default"] for r in responses].count(True) == 1
    assert CustomerAddress.objects.filter(customer=customer).count() == THREADS
    assert CustomerAddress.objects.filter(customer=customer, is_default=True).count() == 1


def test_concurrent_creates_deletes_and_set_defaults_keep_one_default(customer):
    addresses = [services.address_create(customer_id=customer.pk, label=f"주소 {n}", **ADDRESS) for n in range(THREADS)]
    requests = []
    for n, address in enumerate(addresses):
        # Every odd address deleted, every even one made the default, and a new one added beside each.
        if n % 2:
            requests.append(("delete", f"{ADDRESSES}{address.pk}/", None))
        else:
            requests.append(("post", f"{ADDRESSES}{address.pk}/default/", None))
        requests.append(("post", ADDRESSES, ADDRESS | {"label": f"새 주소 {n}", "is_default": n % 3 == 0}))
    clients = [client_for(customer.user) for _ in requests]
    calls = [
        lambda client=client, method=method, url=url, body=body: getattr(client, method)(url, body, format="json")
        for client, (method, url, body) in zip(clients, requests, strict=True)
    ]

    responses = in_threads(calls)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 4 + [201] * THREADS + [204] * 4, [r.content for r in responses]
    assert CustomerAddress.objects.filter(customer=customer).count() == THREADS - 4 + THREADS
    assert CustomerAddress.objects.filter(customer=customer, is_default=True).count() == 1


def test_concurrent_creates_never_pass_the_limit(customer, settings):
    settings.CUSTOMER_MAX_ADDRESSES = 3
    services.address_create(customer_id=customer.pk, label="집", **ADDRESS)
    clients = [client_for(customer.user) for _ in range(THREADS)]

    responses = in_threads(
        [
            lambda client=client, n=n: client.post(ADDRESSES, ADDRESS | {"label": f"주소 {n}"}, format="json")
            for n, client in enumerate(clients)
        ]
    )

    assert sorted(r.status_code for r in responses) == [201] * 2 + [409] * (THREADS - 2)
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"address_limit_reached"}
    assert CustomerAddress.objects.filter(customer=customer).count() == 3
    assert CustomerAddress.objects.filter(customer=customer, is_default=True).count() == 1
