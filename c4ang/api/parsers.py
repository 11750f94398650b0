"""The API's JSON parser: any body it cannot take is a 400, never a 500.

DRF's parser turns malformed JSON into a `parse_error`, but a body nested about a thousand levels
deep raises RecursionError inside the decoder (a 500), and one nested a few hundred levels deep
parses, then breaks whatever walks it next (serializers, the error flattening, jsonb). No body of
this API nests more than a few levels (a Toss webhook's `data.cancels.0`): deeper than MAX_DEPTH
is a `parse_error`. A number that overflows to infinity (`1e400`) has no JSON form and no column
or jsonb can hold it: a 400 naming the field, as DRF's strict mode already refuses `Infinity`. So is
text with a lone surrogate (`"\\ud800"`), in a value or a key: it is not Unicode text, and no
database, cache, log line or response can encode it. (NUL characters are refused by every text field
and by the webhook's own check: SQLite and the caches hold them, only PostgreSQL does not.)"""

import math

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError

MAX_DEPTH = 32


def nested_too_deep() -> ParseError:
    return ParseError(gettext("JSON parse error - nested deeper than %(depth)d levels") % {"depth": MAX_DEPTH})


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise nested_too_deep() from None
        except ParseError as error:
            # DRF words it in English only; the decoder's own reason (its context) stays as it said it.
            if not isinstance(error.__context__, ValueError):
                raise
            message = gettext("JSON parse error - %(reason)s") % {"reason": error.__context__}
            raise ParseError(message) from None
        refuse_unstorable(data)
        return data


def refuse_unstorable(data) -> None:
    """Walk the parsed body without recursion: ParseError past MAX_DEPTH, a ValidationError naming
    a number out of range or text with a surrogate (dotted path, as in the error shape; for a key,
    the object that holds it, since the key itself cannot be echoed back)."""
    pending = [(data, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, float) and math.isinf(value):
            raise _invalid(path, gettext("This number is out of range."), "number_out_of_range")
        if isinstance(value, str):
            _refuse_surrogates(value, path)
        elif isinstance(value, dict | list):
            if depth == MAX_DEPTH:
                raise nested_too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _refuse_surrogates(key, path)
                pending.append((item, f"{path}.{key}" if path else str(key), depth + 1))


def _refuse_surrogates(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        # DRF's text fields word and code it so (ProhibitSurrogateCharactersValidator).
        message = gettext("Surrogate characters are not allowed: U+%(code_point)s.") % {
            "code_point": f"{ord(text[error.start]):X}"
        }
        raise _invalid(path, message, "surrogate_characters_not_allowed") from None


def _invalid(path: str, message: str, code: str) -> ValidationError:
    detail = [ErrorDetail(message, code=code)]
    return ValidationError({path: detail} if path else detail)
