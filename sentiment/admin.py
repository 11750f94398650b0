from django.contrib import admin

from sentiment.models import ProductSentiment


@admin.register(ProductSentiment)
class ProductSentimentAdmin(admin.ModelAdmin):
    list_display = ["product", "avg_sentiment", "positive_ratio", "negative_ratio", "review_count", "analyzed_at"]
    list_select_related = ["product"]
    search_fields = ["product__name"]
    readonly_fields = [
        "product",
        "positive_ratio",
        "negative_ratio",
        "avg_sentiment",
        "review_count",
        "model_name",
        "analyzed_at",
    ]
