from dataclasses import replace

import pytest


@pytest.fixture
def replace_saga_step(monkeypatch):
    """Swap one step of the place-order saga for this test (to simulate crashes and lost answers)."""
    from orders.place_order import PLACE_ORDER
    from saga import engine as saga_engine

    def swap(name: str, **changes) -> None:
        definition = saga_engine._definitions[PLACE_ORDER]
        steps = tuple(replace(step, **changes) if step.name == name else step for step in definition.steps)
        monkeypatch.setitem(saga_engine._definitions, PLACE_ORDER, replace(definition, steps=steps))

    return swap
