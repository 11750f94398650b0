from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SentimentConfig(AppConfig):
    name = "sentiment"
    verbose_name = _("Sentiment analysis")

    def ready(self):
        # The product detail shows a product's sentiment: the catalog, below us, asks through its hook.
        from c4ang.jobs import job_reasons_register
        from products import hooks as product_hooks
        from sentiment import selectors, services

        product_hooks.sentiment_summary_register(selectors.sentiment_for_product)
        job_reasons_register(services.JOB_REASONS)
