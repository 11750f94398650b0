"""Staff work in a real browser: Debian's Chromium driven by Playwright against a live server."""

import pytest

from customers.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STAFF_EMAIL = "manager@c4ang.com"
STAFF_PASSWORD = "staff browser password"


@pytest.fixture
def staff_login(live_server, page):
    User.objects.create_user(STAFF_EMAIL, STAFF_PASSWORD, is_staff=True, is_superuser=True)

    def login(next_path: str = "/admin/") -> None:
        page.goto(f"{live_server.url}/admin/login/?next={next_path}")
        page.fill("#id_username", STAFF_EMAIL)
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("input[type=submit]")

    return login


def test_staff_sign_in_and_open_the_dashboard(live_server, page, staff_login, screenshot):
    from django.core.management import call_command

    call_command("seed_demo_data", "--products", "30", "--customers", "120", verbosity=0)

    staff_login()
    page.click("text=Open the dashboard")
    page.wait_for_url("**/admin/dashboard/")

    assert page.locator("#stock-alerts table tbody tr").count() > 0
    assert page.locator("#sentiment table tbody tr").count() == 10
    screenshot("dashboard")
