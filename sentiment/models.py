from django.db import models


class ProductSentiment(models.Model):
    """The latest review sentiment of one product, written by the weekly pipeline."""

    product = models.OneToOneField(
        "products.Product", primary_key=True, on_delete=models.CASCADE, db_column="product_id", related_name="+"
    )
    positive_ratio = models.FloatField()
    negative_ratio = models.FloatField()
    avg_sentiment = models.FloatField()
    review_count = models.PositiveIntegerField()
    model_name = models.CharField(max_length=200)
    analyzed_at = models.DateTimeField()

    class Meta:
        db_table = "sentiment"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    positive_ratio__gte=0, positive_ratio__lte=1, negative_ratio__gte=0, negative_ratio__lte=1
                ),
                name="sentiment_ratios_in_unit_interval",
            ),
            models.CheckConstraint(
                condition=models.Q(avg_sentiment__gte=-1, avg_sentiment__lte=1), name="sentiment_average_in_range"
            ),
        ]
        indexes = [models.Index(fields=["analyzed_at"], name="sentiment_analyzed_idx")]

    def __str__(self) -> str:
        return f"Sentiment of {self.product_id}: {self.avg_sentiment:+.2f}"
