"""The customer mix of the load test (bench/load.py runs it headless against the local mesh).

Most visitors browse anonymously: the product list (sorted, filtered by category, searched), product
details, their reviews and recommendations. Fewer are signed-in shoppers who also place and pay
orders, look at their orders and their recommendations; a few newcomers register first. Every
request is named after its endpoint group, the rows of the report.

BENCH_FIXTURE names a JSON file written by bench/load.py: product and category ids, search words
and the accounts of the shoppers ({"email", "password"}).
"""

import itertools
import json
import os
import random
import uuid
from pathlib import Path

from locust import FastHttpUser, between, task

FIXTURE = json.loads(Path(os.environ["BENCH_FIXTURE"]).read_text(encoding="utf-8"))
ACCOUNTS = itertools.cycle(FIXTURE["accounts"])
NEWCOMER_PASSWORD = "bench-newcomer-2026"  # noqa: S105 - accounts of a throwaway benchmark database
# Every order ships somewhere: one address for all shoppers.
SHIPPING_ADDRESS = {
    "recipient": "김민준",
    "phone": "010-1234-5678",
    "postal_code": "06236",
    "road_address": "서울특별시 강남구 테헤란로 152",
    "detail": "12층",
}


class Visitor(FastHttpUser):
    """Anonymous browsing."""

    weight = 12
    wait_time = between(0.5, 1.5)

    def product_id(self) -> str:
        return random.choice(FIXTURE["products"])

    @task(5)
    def product_list(self):
        ordering = random.choice(["price", "-price", "-created_at", "name"])
        self.client.get(f"/api/v1/products/?ordering={ordering}", name="products: list")

    @task(2)
    def product_list_by_category(self):
        self.client.get(f"/api/v1/products/?category={random.choice(FIXTURE['categories'])}", name="products: list")

    @task(2)
    def product_search(self):
        self.client.get(f"/api/v1/products/?search={random.choice(FIXTURE['search_words'])}", name="products: search")

    @task(10)
    def product_detail(self):
        self.client.get(f"/api/v1/products/{self.product_id()}/", name="products: detail")

    @task(2)
    def product_reviews(self):
        self.client.get(f"/api/v1/products/{self.product_id()}/reviews/", name="products: reviews")

    @task(3)
    def product_recommendations(self):
        self.client.get(f"/api/v1/recommendations/{self.product_id()}/", name="recommendations: product")

    @task(1)
    def categories(self):
        self.client.get("/api/v1/products/categories/", name="products: categories")


class Shopper(Visitor):
    """A customer who signs in, browses, places and pays orders and looks at them."""

    weight = 4

    def on_start(self):
        self.sign_in(next(ACCOUNTS))

    def sign_in(self, account: dict) -> None:
        with self.client.post("/api/v1/customers/token/", json=account, name="customers: sign in") as response:
            self.client.auth_header = f"Bearer {response.json()['access']}"

    @task(2)
    def place_and_pay(self):
        body = {
            "items": [{"product_id": self.product_id(), "quantity": random.choice([1, 2])}],
            "address": SHIPPING_ADDRESS,
            "payment_token": "tok_approve",
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            "/api/v1/orders/", json=body, headers=headers, name="orders: place and pay", catch_response=True
        ) as response:
            if response.status_code != 201 or response.json().get("status") != "PAID":
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(2)
    def cart(self):
        """Put a product in the cart and look at it; now and then check the cart out."""
        line = {"product_id": self.product_id(), "quantity": 1}
        self.client.post("/api/v1/orders/cart/items/", json=line, name="orders: cart add")
        cart = self.client.get("/api/v1/orders/cart/", name="orders: cart view").json()
        if len(cart["lines"]) < 3 or not cart["checkout_ready"]:
            return
        body = {"from_cart": True, "address": SHIPPING_ADDRESS, "payment_token": "tok_approve"}
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            "/api/v1/orders/", json=body, headers=headers, name="orders: checkout from cart", catch_response=True
        ) as response:
            # Two sessions of one account may check its cart out at once: one order, the other told so.
            raced = response.status_code == 409 and response.json().get("code") in ("cart_changed", "cart_empty")
            if not raced and (response.status_code != 201 or response.json().get("status") != "PAID"):
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(2)
    def own_orders(self):
        self.client.get("/api/v1/orders/", name="orders: own list")

    @task(1)
    def my_recommendations(self):
        self.client.get("/api/v1/recommendations/me/", name="recommendations: mine")

    @task(1)
    def profile(self):
        self.client.get("/api/v1/customers/me/", name="customers: me")


class Newcomer(Shopper):
    """Registers an account, then shops like the others."""

    weight = 1

    def on_start(self):
        account = {"email": f"newcomer-{uuid.uuid4().hex[:16]}@bench.c4ang.com", "password": NEWCOMER_PASSWORD}
        body = {**account, "name": "신규 고객"}
        self.client.post("/api/v1/customers/register/", json=body, name="customers: register")
        self.sign_in(account)
