"""The OpenAPI schema is one an app developer can build a shop from alone: every operation says what
it does, every field what it holds (units, formats, limits), every value from a fixed set is an enum,
every JSON body has a realistic example, money is whole won, and customer and staff operations sit
under separate tags.

One case per module (`pytest -k orders`): the module's operations and every component they reach.
A gap is named by where it is: `POST /api/v1/orders/: no summary`, `OrderOutput.status: ...`."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

MODULES = ("customers", "products", "orders", "payments", "recommendations", "saga")
METHODS = ("get", "post", "put", "patch", "delete")

# A string property so named takes its values from a fixed set (unless it has a pattern or a format).
FIXED_VALUES = re.compile(
    r"(?:^|_)(?:status|method|reason|provider|carrier|bank|currency|type|algorithm|gateway|code)$"
)
# Named like one, but an open set: why each is not an enum.
OPEN_VALUES = {
    # A field's validation code: DRF's own (required, min_value, invalid, ...) and the serializers'.
    ("ErrorDetail", "code"),
    # The PG's codes: the PG adds new ones; the known ones are listed in the field's description.
    ("PaymentOutput", "failure_code"),
    ("PaymentSummaryOutput", "failure_code"),
    ("StaffRefundOutput", "failure_code"),
    # A person's words on why (free text, kept in the audit trail); the code is the operation's own.
    ("CancelInputRequest", "reason"),
    ("CancelLinesInputRequest", "reason"),
    ("StaffStockAdjustInputRequest", "reason"),
    ("SagaCompensateInputRequest", "reason"),
}
MONEY = re.compile(r"(?:^|_)(?:amount|price|fee)$")


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _component(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {_component(node["$ref"])} if "$ref" in node else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node)) if node else set()
    return set()


def _reachable(schema, roots: set[str]) -> set[str]:
    components = schema["components"]["schemas"]
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in components:
            continue
        seen.add(name)
        todo.extend(_refs(components[name]) - seen)
    return seen


def _operations(schema, module: str):
    for path, item in schema["paths"].items():
        if path.startswith(f"/api/v1/{module}/"):
            for method in METHODS:
                if method in item:
                    yield path, method, item[method]


def _is_enum(schema, prop: dict) -> bool:
    components = schema["components"]["schemas"]
    candidates = [prop, *prop.get("allOf", []), *prop.get("oneOf", []), *prop.get("anyOf", [])]
    for candidate in candidates:
        if "enum" in candidate:
            return True
        if "$ref" in candidate and "enum" in components.get(_component(candidate["$ref"]), {}):
            return True
    return False


def _json_content_gaps(where: str, content: dict | None, schema) -> list[str]:
    media = (content or {}).get("application/json")
    if media is None:
        return []
    if media.get("examples") or media.get("example"):
        return []
    ref = media.get("schema", {}).get("$ref")
    if ref and "example" in schema["components"]["schemas"].get(_component(ref), {}):
        return []
    return [f"{where}: no example"]


def _operation_gaps(schema, path: str, method: str, operation: dict) -> list[str]:
    where = f"{method.upper()} {path}"
    gaps = []
    if not operation.get("summary", "").strip():
        gaps.append(f"{where}: no summary")
    if not operation.get("description", "").strip():
        gaps.append(f"{where}: no description")
    tags = operation.get("tags", [])
    staff = "/staff/" in path or path.startswith("/api/v1/saga/")
    if len(tags) != 1 or tags[0].endswith("staff") != staff:
        gaps.append(f"{where}: tags {tags} (one tag; customer and staff operations apart)")
    for parameter in operation.get("parameters", []):
        if not parameter.get("description", "").strip():
            gaps.append(f"{where}: parameter {parameter['name']} has no description")
    gaps += _json_content_gaps(f"{where} request", operation.get("requestBody", {}).get("content"), schema)
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            gaps += _json_content_gaps(f"{where} {status}", response.get("content"), schema)
    return gaps


def _component_gaps(schema, name: str) -> list[str]:
    component = schema["components"]["schemas"][name]
    gaps = []
    for field, prop in component.get("properties", {}).items():
        where = f"{name}.{field}"
        if not prop.get("description", "").strip():
            gaps.append(f"{where}: no description")
        typed = prop.get("type")
        fixed = FIXED_VALUES.search(field) and "pattern" not in prop and "format" not in prop
        if typed == "string" and fixed and (name, field) not in OPEN_VALUES and not _is_enum(schema, prop):
            gaps.append(f"{where}: a string of fixed values without an enum")
        if MONEY.search(field) and typed != "integer":
            gaps.append(f"{where}: money is whole won, an integer (is {typed or 'a reference'})")
    return gaps


@pytest.mark.parametrize("module", MODULES)
def test_the_schema_of_a_module_leaves_nothing_to_guess(schema, module):
    operations = list(_operations(schema, module))
    assert operations, f"no operations under /api/v1/{module}/"
    gaps = []
    roots = set()
    for path, method, operation in operations:
        gaps += _operation_gaps(schema, path, method, operation)
        roots |= _refs(operation)
    for name in sorted(_reachable(schema, roots)):
        gaps += _component_gaps(schema, name)
    assert not gaps, f"{len(gaps)} gaps:\n" + "\n".join(gaps)


def test_the_schema_opens_with_the_shopping_flow_the_readme_shows(schema):
    description = schema["info"]["description"]
    flow = description[description.index("## The shopping flow") :].removeprefix("## The shopping flow").strip()
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    assert flow in readme, "the README's Shopping flow section is not the schema's guide"
    for step in ("cart", "checkout", "next_action", "confirm", "deposit_to_virtual_account", "cancel", "return"):
        assert step in description.lower(), step
