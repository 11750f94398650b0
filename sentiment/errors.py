from c4ang.errors import DomainError


class SentimentModelUnavailable(DomainError):
    code = "sentiment_model_unavailable"
    http_status = 503
    message = "The sentiment model cannot be loaded."


class SentimentFunctionError(DomainError):
    """The function ran and failed (a bad event, a timeout, out of memory): Lambda's FunctionError."""

    code = "sentiment_function_error"
    http_status = 502
    message = "The sentiment function failed."


class SentimentInvokeFailed(DomainError):
    """The function could not be invoked (throttled past the retries, unreachable) or answered nonsense."""

    code = "sentiment_invoke_failed"
    http_status = 502
    message = "The sentiment function could not be invoked."
