from django.urls import path

from products import api

urlpatterns = [
    path("", api.ProductListApi.as_view(), name="products-list"),
    path("<uuid:product_id>/", api.ProductDetailApi.as_view(), name="products-detail"),
]
