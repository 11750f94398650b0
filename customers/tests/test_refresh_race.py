"""A refresh token replayed concurrently (a stolen copy raced against its owner) is exchanged once:
real threads on PostgreSQL, each with its own connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REFRESH = "/api/v1/customers/token/refresh/"
THREADS = 8


def test_concurrent_replays_of_a_refresh_token_get_one_new_pair(customer):
    refresh = str(RefreshToken.for_user(customer.user))
    barrier = threading.Barrier(THREADS)

    def exchange(_):
        try:
            barrier.wait(timeout=30)
            return APIClient().post(REFRESH, {"refresh": refresh}, format="json")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        responses = list(pool.map(exchange, range(THREADS)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * (THREADS - 1), [r.content for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 401} == {"token_not_valid"}
    assert BlacklistedToken.objects.count() == 1
    assert OutstandingToken.objects.count() == 2  # the replayed token and the one new token
