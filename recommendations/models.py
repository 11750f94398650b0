from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Recommendation(models.Model):
    """The top recommended products of one product, written by the daily pipeline."""

    product = models.OneToOneField(
        "products.Product",
        primary_key=True,
        on_delete=models.CASCADE,
        db_column="product_id",
        related_name="+",
        verbose_name=_("product"),
    )
    recommended_product_ids = models.JSONField(_("recommended products"), default=list)
    scores = models.JSONField(_("scores"), default=list)
    algorithm = models.CharField(_("algorithm"), max_length=50)
    created_at = models.DateTimeField(_("generated"))

    class Meta:
        db_table = "recommendations"
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")

    def __str__(self) -> str:
        return gettext("Recommendations for %(product)s") % {"product": self.product_id}
