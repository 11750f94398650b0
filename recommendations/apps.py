from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    verbose_name = _("Recommendations")

    def ready(self):
        from c4ang.jobs import job_reasons_register
        from recommendations import services

        job_reasons_register(services.JOB_REASONS)
