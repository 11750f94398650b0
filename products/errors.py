from c4ang.errors import Conflict, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"
    message = "Product not found."


class ReviewAlreadyExists(Conflict):
    code = "review_already_exists"
    message = "You have already reviewed this product."
