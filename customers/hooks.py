"""What the customers module asks of the modules above it when a customer deletes their account,
without importing them.

Orders knows whether the customer still has orders under way (the account stays until they settle)
and keeps the customer's cart (erased with the account): it registers both once, in its
AppConfig.ready. A module that keeps more of a customer's personal data registers its eraser too.
"""

from collections.abc import Callable
from uuid import UUID

_open_orders_check: Callable[..., bool] | None = None
_personal_data_erasers: list[Callable[..., None]] = []


def open_orders_check_register(check: Callable[..., bool]) -> None:
    """`check(*, customer_id) -> bool`: whether the customer has orders not yet settled."""
    global _open_orders_check
    _open_orders_check = check


def personal_data_eraser_register(eraser: Callable[..., None]) -> None:
    """`eraser(*, customer_id)`: erase the customer's personal data the module keeps and no law
    requires kept (the cart). Runs in the deletion's transaction."""
    if eraser not in _personal_data_erasers:
        _personal_data_erasers.append(eraser)


def customer_has_open_orders(*, customer_id: UUID) -> bool:
    return _open_orders_check is not None and _open_orders_check(customer_id=customer_id)


def personal_data_erase(*, customer_id: UUID) -> None:
    for eraser in _personal_data_erasers:
        eraser(customer_id=customer_id)
