from django.contrib import admin

from products.models import Category, Product, Review


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "brand", "price", "stock", "is_active", "updated_at"]
    list_select_related = ["category"]
    list_filter = ["is_active", "category", "brand"]
    search_fields = ["name", "brand"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "customer", "rating", "status", "is_verified_purchase", "created_at"]
    list_select_related = ["product", "customer"]
    list_filter = ["status", "rating", "is_verified_purchase"]
    search_fields = ["content", "product__name"]
    raw_id_fields = ["product", "customer"]
