from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SagaConfig(AppConfig):
    name = "saga"
    verbose_name = _("Saga")
