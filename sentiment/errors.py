"""The sentiment job's errors. Their details, given where they are raised (sentiment.backends), are the
operator's diagnosis (the function's name, AWS's code and message) and are stored in the job run's
message: they stay in English; the default messages here are translated."""

from django.utils.translation import gettext_lazy as _

from c4ang.errors import DomainError


class SentimentModelUnavailable(DomainError):
    code = "sentiment_model_unavailable"
    http_status = 503
    message = _("The sentiment model cannot be loaded.")


class SentimentFunctionError(DomainError):
    """The function ran and failed (a bad event, a timeout, out of memory): Lambda's FunctionError."""

    code = "sentiment_function_error"
    http_status = 502
    message = _("The sentiment function failed.")


class SentimentInvokeFailed(DomainError):
    """The function could not be invoked (throttled past the retries, unreachable) or answered nonsense."""

    code = "sentiment_invoke_failed"
    http_status = 502
    message = _("The sentiment function could not be invoked.")
