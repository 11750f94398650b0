from django.utils.translation import gettext_lazy as _

from c4ang.errors import Conflict, DomainError, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"
    message = _("Product not found.")


class ProductUnavailable(DomainError):
    code = "product_unavailable"
    message = _("The product is not for sale.")


class CategoryNotFound(NotFound):
    code = "category_not_found"
    message = _("Category not found.")


class CategoryAlreadyExists(Conflict):
    code = "category_already_exists"
    message = _("A category with this name already exists.")


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    message = _("Not enough stock.")


class StockAboveMaximum(DomainError):
    code = "stock_above_maximum"
    message = _("Stock cannot go above the maximum.")


class ReviewAlreadyExists(Conflict):
    code = "review_already_exists"
    message = _("You have already reviewed this product.")


class ReviewNotFound(NotFound):
    code = "review_not_found"
    message = _("Review not found.")


# --- images ---


class ImageRejected(DomainError):
    """An upload that is not a picture the shop can store; raised with field="image"."""

    code = "image_invalid"
    message = _("The file is not an image the shop can use.")


class ImageEmpty(ImageRejected):
    code = "image_empty"
    message = _("The file is empty.")


class ImageTooBig(ImageRejected):
    code = "image_too_big"
    message = _("The file is larger than the upload limit.")


class ImageTooManyPixels(ImageRejected):
    code = "image_too_many_pixels"
    message = _("The image has more pixels than the limit.")


class ImageUnsupportedFormat(ImageRejected):
    code = "image_unsupported_format"
    message = _("Upload a JPEG, PNG or WebP image.")


class ImageAnimated(ImageRejected):
    code = "image_animated"
    message = _("Animated images are not taken: upload a still JPEG, PNG or WebP.")


class ImageCorrupt(ImageRejected):
    code = "image_corrupt"
    message = _("The image cannot be decoded: the file is damaged or cut short.")


class ProductImageNotFound(NotFound):
    code = "product_image_not_found"
    message = _("Product image not found.")


class ProductImageLimitReached(Conflict):
    code = "product_image_limit_reached"
    message = _("The product has as many images as it may have.")


class ProductImagePrimaryRequired(DomainError):
    code = "product_image_primary_required"
    message = _("A product with images always has a primary one: make another image primary instead.")


# --- search ---


class CategoryCycle(Conflict):
    code = "category_cycle"
    message = _("A category cannot be moved under itself or one of its descendants.")


class CategoryTooDeep(Conflict):
    code = "category_too_deep"
    message = _("The category tree would be deeper than its limit.")
