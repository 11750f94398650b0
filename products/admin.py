import math

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from c4ang.actors import actor_of
from c4ang.admin_actions import NoDeleteMixin, run_for_each
from c4ang.admin_display import Tone, krw, status_badge
from products import images, selectors, services
from products.constants import ReviewStatus
from products.errors import ImageRejected
from products.models import Category, Product, ProductImage, Review, StockAdjustment

REVIEW_TONES = {ReviewStatus.PENDING: Tone.WAITING, ReviewStatus.APPROVED: Tone.GOOD, ReviewStatus.REJECTED: Tone.BAD}

INLINE_REVIEWS = 20


# What the actions tell staff, by how many of the selected rows they changed (c4ang.admin_actions).
def _taken_off_sale(count: int) -> str:
    return ngettext("%(count)d product taken off sale.", "%(count)d products taken off sale.", count) % {"count": count}


def _stock_adjusted(count: int) -> str:
    return ngettext("Stock of %(count)d product adjusted.", "Stock of %(count)d products adjusted.", count) % {
        "count": count
    }


def _approved(count: int) -> str:
    return ngettext("%(count)d review approved.", "%(count)d reviews approved.", count) % {"count": count}


def _rejected(count: int) -> str:
    return ngettext("%(count)d review rejected.", "%(count)d reviews rejected.", count) % {"count": count}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "product_count"]
    list_select_related = ["parent"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(ordering="product_count", description=pgettext_lazy("how many", "products"))
    def product_count(self, category):
        return category.product_count


class LatestReviewInline(admin.TabularInline):
    """The product's latest reviews (a popular product has thousands: the full list is under Reviews)."""

    model = Review
    extra = 0
    can_delete = False
    fields = ["created_at", "rating", "content", "status", "is_verified_purchase", "customer"]
    readonly_fields = ["created_at", "rating", "content", "is_verified_purchase", "customer"]
    verbose_name = _("review")
    verbose_name_plural = format_lazy(_("latest {count} reviews"), count=INLINE_REVIEWS)

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
    verbose_name = _("stock adjustment")
    verbose_name_plural = _("stock adjustments")

    def has_add_permission(self, request, obj=None):
        return False


class StockAdjustmentForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-1_000_000,
        max_value=1_000_000,
        label=_("Change in stock"),
        help_text=_("Units received (+) or written off (-)."),
    )
    reason = forms.CharField(
        max_length=200, label=_("Reason"), help_text=_("Why: goods received, damaged, stock count correction …")
    )


# --- images ---


class ProductImageInlineForm(forms.ModelForm):
    """One image row: a new row takes a file (decoded and checked here, as the API checks it);
    `place` and `primary` are applied by the services after every row is validated."""

    upload = forms.FileField(required=False, label=_("image"), help_text=_("JPEG, PNG or WebP"))
    place = forms.IntegerField(min_value=0, required=False, label=_("position"), help_text=_("0 is first; blank: last"))
    primary = forms.BooleanField(required=False, label=_("primary"))

    class Meta:
        model = ProductImage
        fields = ["alt_text"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.processed: images.ProcessedImage | None = None
        self.stored = not self.instance._state.adding  # the uuid primary key is set on new rows too
        if self.stored:
            self.fields["upload"].disabled = True  # an image's file is replaced by deleting it and adding another
            self.fields["place"].initial = self.instance.position
            self.fields["primary"].initial = self.instance.is_primary

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if self.stored:
            return None
        if upload is None:
            raise ValidationError(gettext("Choose an image file."))
        try:
            self.processed = images.image_process(upload)
        except ImageRejected as refused:
            raise ValidationError(refused.message, code=refused.code) from None
        return upload


class ProductImageInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]
        chosen = [form for form in kept if form.cleaned_data.get("primary")]
        if len(chosen) > 1:
            raise ValidationError(gettext("Tick the primary box of one image only."))
        if not chosen and any(form.stored and form.instance.is_primary for form in kept):
            raise ValidationError(
                gettext(
                    "A product with images always has a primary one: tick the primary box of another image instead."
                )
            )


class ProductImageInline(admin.TabularInline):
    """The product's pictures: add (checked and resized as through the API), reorder, choose the
    primary, alt text, delete (with the files). Every change goes through the services."""

    model = ProductImage
    form = ProductImageInlineForm
    formset = ProductImageInlineFormSet
    extra = 1
    fields = ["preview", "upload", "alt_text", "place", "primary", "size"]
    readonly_fields = ["preview", "size"]
    verbose_name = _("image")
    verbose_name_plural = _("images")

    def get_max_num(self, request, obj=None, **kwargs):
        return settings.PRODUCT_IMAGES_MAX

    @admin.display(description=_("preview"))
    def preview(self, image):
        if image._state.adding or "thumbnail" not in image.variants:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" style="max-width:100px;max-height:100px">',
            default_storage.url(image.variants["thumbnail"]),
            image.alt_text,
        )

    @admin.display(description=_("original image"))
    def size(self, image):
        if image._state.adding:
            return "—"
        return format_html('<a href="{}">{} x {} px</a>', image.original.url, image.width, image.height)


def _save_image_rows(product: Product, formset: ProductImageInlineFormSet) -> None:
    """Apply the image rows through the services: deletions, then alt texts and new images, then
    the primary chosen, then the order typed (rows left blank go last). Records what changed as a
    formset's save() would, for the admin's history."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.deleted_forms:
        if form.stored:
            services.product_image_delete(product_id=product.pk, image_id=form.instance.pk)
            formset.deleted_objects.append(form.instance)
    placed, moved, primary = [], bool(formset.deleted_forms), None
    for index, form in enumerate(formset.forms):
        if form in formset.deleted_forms or not form.cleaned_data:
            continue
        data = form.cleaned_data
        if form.stored:
            image = form.instance
            if "alt_text" in form.changed_data:
                services.product_image_update(product_id=product.pk, image_id=image.pk, alt_text=data["alt_text"])
            if form.changed_data:
                formset.changed_objects.append((image, form.changed_data))
        elif form.processed is not None:
            image = services.product_image_add(
                product_id=product.pk, processed=form.processed, alt_text=data.get("alt_text", "")
            )
            formset.new_objects.append(image)
            moved = True
        else:
            continue
        if data.get("primary") and not image.is_primary:
            primary = image
        moved = moved or "place" in form.changed_data
        place = data.get("place")
        placed.append((math.inf if place is None else place, index, image.pk))
    if primary is not None:
        services.product_image_update(product_id=product.pk, image_id=primary.pk, is_primary=True)
    if moved:
        services.product_image_reorder(product_id=product.pk, image_ids=[pk for _, _, pk in sorted(placed)])


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "name", "category", "brand", "price_krw", "stock_level", "is_active", "updated_at"]
    list_display_links = ["thumbnail", "name"]
    list_select_related = ["category"]
    list_filter = ["is_active", "category", "brand", "created_at"]
    search_fields = ["name", "brand"]
    readonly_fields = ["id", "stock", "created_at", "updated_at"]
    fields = ["id", "name", "category", "brand", "price", "stock", "is_active", "created_at", "updated_at"]
    inlines = [ProductImageInline, StockAdjustmentInline, LatestReviewInline]
    list_per_page = 50
    actions = ["deactivate", "adjust_stock"]

    @admin.action(description=_("Deactivate (take off sale)"))
    def deactivate(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda product: services.product_deactivate(product_id=product.pk),
            _taken_off_sale,
        )

    @admin.action(description=_("Adjust stock with a reason …"))
    def adjust_stock(self, request, queryset):
        form = StockAdjustmentForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            run_for_each(
                self,
                request,
                queryset,
                lambda product: services.stock_adjust(product_id=product.pk, by=actor_of(request), **form.cleaned_data),
                _stock_adjusted,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Adjust stock"),
            "form": form,
            "products": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/products/adjust_stock.html", context)

    def get_queryset(self, request):
        return selectors.products_with_primary_image(products=super().get_queryset(request))

    def save_formset(self, request, form, formset, change):
        if formset.model is ProductImage:
            _save_image_rows(form.instance, formset)
        else:
            super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        self._delete_images([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._delete_images(queryset)
        super().delete_queryset(request, queryset)

    def _delete_images(self, products) -> None:
        # Through the service: a cascade would delete the rows and leave their files in the storage.
        for product in products:
            for image in selectors.product_image_list(product_id=product.pk):
                services.product_image_delete(product_id=product.pk, image_id=image.pk)

    @admin.display(description=_("image"))
    def thumbnail(self, product):
        primary = product.primary_images[0] if getattr(product, "primary_images", None) else None
        if primary is None or "thumbnail" not in primary.variants:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" style="max-width:48px;max-height:48px">',
            default_storage.url(primary.variants["thumbnail"]),
            primary.alt_text,
        )

    @admin.display(ordering="price", description=_("price"))
    def price_krw(self, product):
        return krw(product.price)

    @admin.display(ordering="stock", description=_("stock"))
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

    @admin.action(description=_("Approve (public, counted by the sentiment job)"))
    def approve(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda review: services.review_moderate(review_id=review.pk, status=Review.Status.APPROVED),
            _approved,
        )

    @admin.action(description=_("Reject (hidden)"))
    def reject(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda review: services.review_moderate(review_id=review.pk, status=Review.Status.REJECTED),
            _rejected,
        )

    @admin.display(ordering="rating", description=_("rating"))
    def stars(self, review):
        return "★" * review.rating + "☆" * (5 - review.rating)

    @admin.display(ordering="status", description=_("status"))
    def status_badge(self, review):
        return status_badge(review.status, review.get_status_display(), REVIEW_TONES)


# --- search ---


class CategoryTreeForm(forms.ModelForm):
    """Name and parent; path and depth follow from the parent (the services write them). A parent
    that would make a cycle or too deep a tree is refused here, before anything is saved."""

    class Meta:
        model = Category
        fields = ["name", "parent"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        category = self.instance
        if parent is None:
            return parent
        saved = not category._state.adding  # a new one has its (default) id already
        if saved and (parent.pk == category.pk or (category.path and parent.path.startswith(category.path))):
            raise ValidationError(gettext("A category cannot be moved under itself or one of its descendants."))
        height = selectors.category_subtree_height(category_id=category.pk) if saved else 0
        if parent.depth + 1 + height >= services.CATEGORY_MAX_DEPTH:
            raise ValidationError(
                gettext("The category tree is at most %(max)d levels deep.") % {"max": services.CATEGORY_MAX_DEPTH}
            )
        return parent


class CategoryTreeAdmin(CategoryAdmin):
    """Categories as a tree (grouped by subtree, indented by depth); saved through the services,
    which keep every path and depth right when a category moves."""

    form = CategoryTreeForm
    list_display = ["indented_name", "parent", "depth", "product_count"]
    fields = ["name", "parent", "path", "depth"]
    readonly_fields = ["path", "depth"]
    ordering = ["path", "name"]

    @admin.display(ordering="path", description=pgettext_lazy("category", "name"))
    def indented_name(self, category):
        return format_html('<span style="padding-left:{}em">{}</span>', 1.5 * category.depth, category.name)

    def save_model(self, request, obj, form, change):
        parent_id = obj.parent_id
        if change:
            saved = services.category_update(category_id=obj.pk, name=obj.name, parent_id=parent_id)
        else:
            saved = services.category_create(name=obj.name, parent_id=parent_id)
        obj.pk, obj.path, obj.depth = saved.pk, saved.path, saved.depth
        obj._state.adding = False


admin.site.unregister(Category)
admin.site.register(Category, CategoryTreeAdmin)
