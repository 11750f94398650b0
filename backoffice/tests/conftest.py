"""Real Chromium (Debian's package, driven by Playwright) for the admin's browser tests."""

from pathlib import Path

import pytest

from deploy.local import debian

CHROMIUM = "/usr/bin/chromium"
APT_PACKAGES = ["chromium", "fonts-noto-cjk"]  # the fonts so that Korean text renders in screenshots
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The machine's network is closed: keep Chromium from reaching out at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> str:
    """Debian's chromium, installed through apt when missing (no browser download by Playwright)."""
    return debian.installed(APT_PACKAGES, found=_chromium_binary, what="chromium", recommends=True)


def _chromium_binary() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else None


@pytest.fixture
def browser_language() -> str:
    """The browser's locale, hence the Accept-Language it sends: English, as the suite asserts; a test
    (or a class of tests) reading the admin in Korean overrides this fixture with "ko-KR"."""
    return "en-US"


@pytest.fixture
def page(request, monkeypatch, browser_language):
    """A Chromium page in `browser_language`; Playwright stops before the test database is torn down
    (its event loop with it)."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale=browser_language)
        yield page
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}-final.png", full_page=True)
        browser.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-artifacts/ (kept by CI)."""

    def take(name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take
