from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ProductSentiment(models.Model):
    """The latest review sentiment of one product, written by the weekly pipeline."""

    product = models.OneToOneField(
        "products.Product",
        primary_key=True,
        on_delete=models.CASCADE,
        db_column="product_id",
        related_name="+",
        verbose_name=_("product"),
    )
    positive_ratio = models.FloatField(_("positive share"))
    negative_ratio = models.FloatField(_("negative share"))
    avg_sentiment = models.FloatField(_("average sentiment"))
    review_count = models.PositiveIntegerField(_("reviews analysed"))
    model_name = models.CharField(_("model"), max_length=200)
    analyzed_at = models.DateTimeField(_("analysed"))

    class Meta:
        db_table = "sentiment"
        verbose_name = _("product sentiment")
        verbose_name_plural = _("product sentiments")
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
        return gettext("Sentiment of %(product)s: %(average)s") % {
            "product": self.product_id,
            "average": f"{self.avg_sentiment:+.2f}",
        }
