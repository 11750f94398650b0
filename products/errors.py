from c4ang.errors import Conflict, DomainError, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"
    message = "Product not found."


class ProductUnavailable(DomainError):
    code = "product_unavailable"
    message = "The product is not for sale."


class CategoryNotFound(NotFound):
    code = "category_not_found"
    message = "Category not found."


class CategoryAlreadyExists(Conflict):
    code = "category_already_exists"
    message = "A category with this name already exists."


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    message = "Not enough stock."


class StockAboveMaximum(DomainError):
    code = "stock_above_maximum"
    message = "Stock cannot go above the maximum."


class ReviewAlreadyExists(Conflict):
    code = "review_already_exists"
    message = "You have already reviewed this product."


class ReviewNotFound(NotFound):
    code = "review_not_found"
    message = "Review not found."
