"""System checks of the payments module's configuration."""

from django.conf import settings
from django.core.checks import Warning


def toss_client_key_check(app_configs, **kwargs) -> list[Warning]:
    """With Toss, apps open its payment widget with the client key the API hands them."""
    if settings.PAYMENT_GATEWAY == "toss" and not settings.TOSS_CLIENT_KEY:
        return [
            Warning(
                "PAYMENT_GATEWAY=toss without TOSS_CLIENT_KEY: apps get an empty client_key and cannot open "
                "Toss's payment widget (confirms, deposits and refunds still work).",
                hint="Set TOSS_CLIENT_KEY to the merchant's client key (test_ck_... or live_ck_...): it is public.",
                id="payments.W001",
            )
        ]
    return []
