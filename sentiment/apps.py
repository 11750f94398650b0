from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SentimentConfig(AppConfig):
    name = "sentiment"
    verbose_name = _("Sentiment analysis")

    def ready(self):
        # The product detail shows a product's sentiment: the catalog, below us, asks through its hook.
        from products import hooks as product_hooks
        from sentiment import selectors

        product_hooks.sentiment_summary_register(selectors.sentiment_for_product)
