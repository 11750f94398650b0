from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from payments.checks import toss_client_key_check

        checks.register(toss_client_key_check)
