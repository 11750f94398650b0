from django.apps import AppConfig


class SentimentConfig(AppConfig):
    name = "sentiment"
    verbose_name = "Sentiment"

    def ready(self):
        # The product detail shows a product's sentiment: the catalog, below us, asks through its hook.
        from products import hooks as product_hooks
        from sentiment import selectors

        product_hooks.sentiment_summary_register(selectors.sentiment_for_product)
