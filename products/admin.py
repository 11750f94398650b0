from django import forms
from django.contrib import admin
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.html import format_html

from c4ang.actors import actor_of
from c4ang.admin_actions import NoDeleteMixin, run_for_each
from c4ang.admin_display import Tone, krw, status_badge
from products import services
from products.constants import ReviewStatus
from products.models import Category, Product, Review, StockAdjustment

REVIEW_TONES = {ReviewStatus.PENDING: Tone.WAITING, ReviewStatus.APPROVED: Tone.GOOD, ReviewStatus.REJECTED: Tone.BAD}

INLINE_REVIEWS = 20


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "product_count"]
    list_select_related = ["parent"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(ordering="product_count", description="products")
    def product_count(self, category):
        return category.product_count


class LatestReviewInline(admin.TabularInline):
    """The product's latest reviews (a popular product has thousands: the full list is under Reviews)."""

    model = Review
    extra = 0
    can_delete = False
    fields = ["created_at", "rating", "content", "status", "is_verified_purchase", "customer"]
    readonly_fields = ["created_at", "rating", "content", "is_verified_purchase", "customer"]
    verbose_name_plural = f"latest {INLINE_REVIEWS} reviews"

    def get_queryset(self, request):
        latest = Review.objects.order_by("-created_at").values("pk")
        queryset = super().get_queryset(request).select_related("customer").order_by("-created_at")
        return queryset.filter(pk__in=latest.filter(product=self.parent_object)[:INLINE_REVIEWS])

    def get_formset(self, request, obj=None, **kwargs):
        self.parent_object = obj
        return super().get_formset(request, obj, **kwargs)

    def has_add_permission(self, request, obj=None):
        return False


class StockAdjustmentInline(NoDeleteMixin, admin.TabularInline):
    """Every staff stock change with its reason: append-only."""

    model = StockAdjustment
    extra = 0
    can_delete = False
    fields = ["created_at", "delta", "stock_after", "reason", "actor"]
    readonly_fields = fields
    verbose_name_plural = "stock adjustments"

    def has_add_permission(self, request, obj=None):
        return False


class StockAdjustmentForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-1_000_000, max_value=1_000_000, help_text="Units received (+) or written off (-)."
    )
    reason = forms.CharField(max_length=200, help_text="Why: goods received, damaged, stock count correction …")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "brand", "price_krw", "stock_level", "is_active", "updated_at"]
    list_select_related = ["category"]
    list_filter = ["is_active", "category", "brand", "created_at"]
    search_fields = ["name", "brand"]
    readonly_fields = ["id", "stock", "created_at", "updated_at"]
    fields = ["id", "name", "category", "brand", "price", "stock", "is_active", "created_at", "updated_at"]
    inlines = [StockAdjustmentInline, LatestReviewInline]
    list_per_page = 50
    actions = ["deactivate", "adjust_stock"]

    @admin.action(description="Deactivate (take off sale)")
    def deactivate(self, request, queryset):
        run_for_each(
            self, request, queryset, lambda product: services.product_deactivate(product_id=product.pk), "Deactivated"
        )

    @admin.action(description="Adjust stock with a reason …")
    def adjust_stock(self, request, queryset):
        form = StockAdjustmentForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            run_for_each(
                self,
                request,
                queryset,
                lambda product: services.stock_adjust(product_id=product.pk, by=actor_of(request), **form.cleaned_data),
                "Stock adjusted",
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust stock",
            "form": form,
            "products": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/products/adjust_stock.html", context)

    @admin.display(ordering="price", description="price")
    def price_krw(self, product):
        return krw(product.price)

    @admin.display(ordering="stock", description="stock")
    def stock_level(self, product):
        color = "#9b2c2c" if product.stock == 0 else "#b7791f" if product.stock <= 5 else "inherit"
        return format_html('<b style="color:{}">{}</b>', color, product.stock)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "customer", "stars", "status_badge", "is_verified_purchase", "created_at"]
    list_select_related = ["product", "customer"]
    list_filter = ["status", "rating", "is_verified_purchase", "created_at"]
    search_fields = ["content", "product__name", "customer__email"]
    raw_id_fields = ["product", "customer"]
    date_hierarchy = "created_at"
    actions = ["approve", "reject"]

    @admin.action(description="Approve (public, counted by the sentiment job)")
    def approve(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda review: services.review_moderate(review_id=review.pk, status=Review.Status.APPROVED),
            "Approved",
        )

    @admin.action(description="Reject (hidden)")
    def reject(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda review: services.review_moderate(review_id=review.pk, status=Review.Status.REJECTED),
            "Rejected",
        )

    @admin.display(ordering="rating", description="rating")
    def stars(self, review):
        return "★" * review.rating + "☆" * (5 - review.rating)

    @admin.display(ordering="status", description="status")
    def status_badge(self, review):
        return status_badge(review.status, REVIEW_TONES)
