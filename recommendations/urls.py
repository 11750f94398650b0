from django.urls import path

from recommendations import api

urlpatterns = [
    path("me/", api.MyRecommendationsApi.as_view(), name="recommendations-me"),
    path("<uuid:product_id>/", api.ProductRecommendationsApi.as_view(), name="recommendations-for-product"),
]
