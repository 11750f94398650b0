"""Fixtures of the deploy tests: every overlay rendered once per session."""

import pytest

from deploy.render import OVERLAYS, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    return {overlay: render(overlay) for overlay in OVERLAYS}
