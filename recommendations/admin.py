from django.contrib import admin

from recommendations.models import Recommendation


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ["product", "algorithm", "created_at"]
    list_select_related = ["product"]
    list_filter = ["algorithm"]
    search_fields = ["product__name"]
    readonly_fields = ["product", "recommended_product_ids", "scores", "algorithm", "created_at"]
