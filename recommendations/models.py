from django.db import models


class Recommendation(models.Model):
    """The top recommended products of one product, written by the daily pipeline."""

    product = models.OneToOneField(
        "products.Product", primary_key=True, on_delete=models.CASCADE, db_column="product_id", related_name="+"
    )
    recommended_product_ids = models.JSONField(default=list)
    scores = models.JSONField(default=list)
    algorithm = models.CharField(max_length=50)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "recommendations"

    def __str__(self) -> str:
        return f"Recommendations for {self.product_id}"
