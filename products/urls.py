from django.urls import path

from products import api

urlpatterns = [
    path("", api.ProductListApi.as_view(), name="products-list"),
    path("<uuid:product_id>/", api.ProductDetailApi.as_view(), name="products-detail"),
    path("<uuid:product_id>/reviews/", api.ReviewListCreateApi.as_view(), name="products-reviews"),
    path("categories/", api.CategoryListApi.as_view(), name="products-categories"),
    path("brands/", api.BrandListApi.as_view(), name="products-brands"),
    path("staff/", api.StaffProductListCreateApi.as_view(), name="products-staff-list"),
    path("staff/categories/", api.StaffCategoryCreateApi.as_view(), name="products-staff-categories"),
    path(  # --- search ---
        "staff/categories/<uuid:category_id>/", api.StaffCategoryDetailApi.as_view(), name="products-staff-category"
    ),
    path("staff/<uuid:product_id>/", api.StaffProductDetailApi.as_view(), name="products-staff-detail"),
    path("staff/<uuid:product_id>/stock/", api.StaffStockAdjustApi.as_view(), name="products-staff-stock"),
    path("staff/reviews/<uuid:review_id>/", api.StaffReviewModerateApi.as_view(), name="products-staff-review"),
    # --- images ---
    path("staff/<uuid:product_id>/images/", api.StaffProductImageListCreateApi.as_view(), name="products-staff-images"),
    path(
        "staff/<uuid:product_id>/images/<uuid:image_id>/",
        api.StaffProductImageDetailApi.as_view(),
        name="products-staff-image",
    ),
]
