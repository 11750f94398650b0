"""Schemathesis fuzzes every operation of the live OpenAPI schema on a real gunicorn, as an anonymous
client, a customer and staff: no 5xx, and every answer (status code, content type, headers, body)
is one the schema documents.

Then every operation with a body gets bodies that no schema shapes, as each identity: the whole body
a list, a string, a number, null, nested 1,000 levels deep, a number past any column (`1e400`, 5,000
digits), bytes that are not UTF-8, cut-off JSON; and schema-valid bodies with one field replaced by
such a value (or a NUL, a lone surrogate, 2**63). Each is answered below 500, in the error shape.

FUZZ_MAX_EXAMPLES bounds the examples per operation and identity (FUZZ_UNSHAPED_EXAMPLES those with
one hostile field); FUZZ_SEED fixes what is generated, so a run is reproducible. Path parameters are
sometimes the ids of the seeded objects, which schemathesis could not guess."""

import json
import os
import uuid
from collections import Counter, defaultdict

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import SHIPPING_ADDRESS, access_token_for, live_database_url
from customers.tests.factories import CustomerFactory, StaffFactory
from orders import services as order_services
from payments.models import Payment
from products import services as product_services
from products.models import Review
from products.tests.factories import ProductFactory
from recommendations.tests.factories import RecommendationFactory
from saga.models import SagaInstance

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
UNSHAPED_EXAMPLES = int(os.environ.get("FUZZ_UNSHAPED_EXAMPLES", "8"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))
# Not positive_data_acceptance: schema-valid input may break business rules (a common password, an
# unknown product, whitespace-only text) and is then rightly a 400. Not negative_data_rejection: an
# empty (`?status=`) or unknown (`?page[x]=`) query parameter is ignored, by convention, not refused.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
UNLIMITED = "1000000/min"

# JSON text of values that no schema asks for: nesting past any parser's patience, numbers past
# every column (and jsonb, and Python's int parsing), text PostgreSQL refuses, the wrong types.
HOSTILE_VALUES = {
    "lists-nested-1000-deep": "[" * 1000 + "]" * 1000,
    "objects-nested-40-deep": '{"a": ' * 40 + "1" + "}" * 40,
    "exponent-overflow": "1e400",
    "negative-exponent-overflow": "-1e999999",
    "past-bigint": str(2**63),
    "past-integer": str(2**31),
    "5000-digits": "9" * 5000,
    "nul-character": '"a\\u0000b"',
    "lone-surrogate": '"\\ud800"',
    "empty-object": "{}",
    "list": '[1, "a", null]',
    "null": "null",
    "true": "true",
}
# Whole bodies: the hostile values above, other top-level types, and bytes that are not JSON at all.
WHOLE_BODIES = {
    **{name: text.encode() for name, text in HOSTILE_VALUES.items()},
    "string": b'"text"',
    "number": b"42",
    "list-of-objects": b'[{"a": 1}]',
    "not-utf8": b'{"a": "\xff\xfe"}',
    "cut-off": b'{"items": [{"product_id": ',
}


def seed_shop() -> dict[str, str]:
    """A customer with a paid order (payment, saga), a review and recommendations, and a staff member.
    Returns the ids that path parameters name, and the bearer tokens."""
    product, other = (ProductFactory(name=name, stock=1000) for name in ("노트북", "모니터"))
    # Near the integer column's limit (above what staff may set): a stock adjustment must not overflow it.
    product.stock = 2**31 - 1 - 500_000
    product.save(update_fields=["stock"])
    customer = CustomerFactory(email="fuzz@example.kr", name="퍼즈")
    order, _ = order_services.order_place(
        customer_id=customer.pk,
        lines=[order_services.OrderLine(product_id=product.pk, quantity=1)],
        shipping=order_services.ShippingAddress(**SHIPPING_ADDRESS),
        payment_token="tok_approve",
        idempotency_key=None,
    )
    review = product_services.review_create(product_id=product.pk, customer_id=customer.pk, rating=5, content="좋아요")
    product_services.review_moderate(review_id=review.pk, status=Review.Status.APPROVED)
    RecommendationFactory(product=product, recommended=[other])
    staff = StaffFactory(email="fuzz-staff@c4ang.com")
    return {
        "product_id": str(product.pk),
        "customer_id": str(customer.pk),
        "order_id": str(order.pk),
        "payment_id": str(Payment.objects.get(order=order).pk),
        "review_id": str(review.pk),
        "saga_id": str(SagaInstance.objects.get().pk),
        "customer": f"Bearer {access_token_for(customer.user)}",
        "staff": f"Bearer {access_token_for(staff)}",
    }


def known_path_parameters(operation, ids: dict[str, str]) -> dict[str, str] | None:
    names = [parameter.name for parameter in operation.path_parameters]
    return {name: ids[name] for name in names} if names and all(name in ids for name in names) else None


def with_raw_value(body: dict, field: str, raw: str) -> bytes:
    """The JSON of `body` with `field` set to the JSON text `raw` (which json.dumps could not write)."""
    marker = uuid.uuid4().hex
    return json.dumps({**body, field: marker}).replace(f'"{marker}"', raw).encode()


def unshaped_answer_problem(response: requests.Response) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} server error"
    if response.status_code >= 400:
        try:
            answer = response.json()
        except ValueError:
            return f"{response.status_code} not JSON"
        if not isinstance(answer, dict) or set(answer) != {"code", "message", "errors"}:
            return f"{response.status_code} not in the error shape"
    return None


def cases(operation, ids: dict[str, str]):
    strategies = [operation.as_strategy(mode) for mode in schemathesis.GenerationMode]
    if known := known_path_parameters(operation, ids):
        strategies += [operation.as_strategy(mode, path_parameters=known) for mode in schemathesis.GenerationMode]
    return st.one_of(strategies)


class Fuzzer:
    """Sends each operation's generated cases to the server as one identity; collects what fails."""

    def __init__(self, base_url: str, ids: dict[str, str]):
        self.base_url = base_url
        self.ids = ids
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.unshaped: dict[str, Counter[int]] = defaultdict(Counter)
        self.failures: dict[tuple[str, str, str], str] = {}

    def fuzz(self, operation, identity: str, headers: dict[str, str], session: requests.Session) -> None:
        @seed(SEED)
        @settings(
            max_examples=MAX_EXAMPLES,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases(operation, self.ids))
        def send(case):
            response = case.call(base_url=self.base_url, session=session, headers=headers, timeout=30)
            self.statuses[identity][response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    self.failures.setdefault((identity, operation.label, failure.title), str(group))

        send()

    def fuzz_unshaped(self, operation, identity: str, headers: dict[str, str], session: requests.Session) -> None:
        """Bodies that no schema shapes: each whole body, then schema-valid ones with one hostile field."""
        known = known_path_parameters(operation, self.ids)
        path = operation.path.format(**known) if known else operation.path
        for name, body in WHOLE_BODIES.items():
            self.send_raw(operation, identity, headers, session, path, body, f"whole body: {name}")

        extra = {"path_parameters": known} if known else {}

        @seed(SEED)
        @settings(
            max_examples=UNSHAPED_EXAMPLES,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=operation.as_strategy(schemathesis.GenerationMode.POSITIVE, **extra),
            hostile=st.sampled_from(sorted(HOSTILE_VALUES)),
            data=st.data(),
        )
        def send(case, hostile, data):
            body = case.body if isinstance(case.body, dict) and case.body else {"field": None}
            field = data.draw(st.sampled_from(sorted(body)))
            raw = with_raw_value(body, field, HOSTILE_VALUES[hostile])
            self.send_raw(operation, identity, headers, session, case.formatted_path, raw, f"{field}: {hostile}")

        send()

    def send_raw(self, operation, identity, headers, session, path: str, body: bytes, label: str) -> None:
        response = session.request(
            operation.method.upper(),
            f"{self.base_url}{path}",
            data=body,
            headers={**headers, "Content-Type": "application/json"},
            timeout=30,
        )
        self.unshaped[identity][response.status_code] += 1
        if problem := unshaped_answer_problem(response):
            self.failures.setdefault((identity, operation.label, f"{label}: {problem}"), response.text[:500])


# One test per identity, each on a shop of its own: they spread over the suite's workers, and what
# staff delete or cancel is never what the others see.
@pytest.mark.parametrize("identity", ["anonymous", "customer", "staff"])
def test_every_operation_survives_fuzzing_as_each_identity(identity, gunicorn_server, tmp_path):
    ids = seed_shop()
    server = gunicorn_server(
        {
            "DATABASE_URL": live_database_url(tmp_path),
            "PAYMENT_GATEWAY": "fake",
            "C4ANG_MODULES": "all",
            **{f"THROTTLE_{scope}": UNLIMITED for scope in ("ANON", "USER", "AUTH", "AUTH_ACCOUNT")},
            "AXES_FAILURE_LIMIT": "1000000",
        }
    )
    # Identities come from the test: generated Authorization headers would make "anonymous" a bad token.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_url(f"{server.url}/api/schema/?format=json", config=config, timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzer = Fuzzer(server.url, ids)
    headers = {} if identity == "anonymous" else {"Authorization": ids[identity]}

    with requests.Session() as session:
        for operation in operations:
            fuzzer.fuzz(operation, identity, headers, session)
            if list(operation.body):
                fuzzer.fuzz_unshaped(operation, identity, headers, session)

    def answers(statuses: Counter) -> str:
        by_status = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        return f"{statuses.total()} requests ({by_status})"

    print(f"\nfuzzed {len(operations)} operations as {identity}, at most {MAX_EXAMPLES} examples each, seed {SEED}")
    print(answers(fuzzer.statuses[identity]))
    with_body = [operation for operation in operations if list(operation.body)]
    print(f"unshaped bodies: {len(with_body)} operations with a body, {answers(fuzzer.unshaped[identity])}")
    print(f"{len(fuzzer.failures)} failures")
    for (_, label, title), report in sorted(fuzzer.failures.items()):
        print(f"--- {label}: {title}\n{report}")
    assert not fuzzer.failures, sorted(fuzzer.failures)
