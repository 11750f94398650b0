"""Serializer fields every module's API shares."""

from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from c4ang import emails, korea
from c4ang.money import CURRENCY, NOT_WHOLE_WON, NOT_WHOLE_WON_MESSAGE, is_whole_won

MONEY_EXAMPLE = 12900


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 99_999_999, "example": MONEY_EXAMPLE})
class MoneyField(serializers.DecimalField):
    """An amount of money in whole won (KRW has no minor unit), answered as a JSON integer (12900),
    as Stripe and Toss write zero-decimal currencies; the object carrying it says `currency: "KRW"`.
    Up to 8 digits. Input may be a JSON number or a string of one ("12900", "12900.00"); a fractional
    part (1000.50) is a 400 `not_whole_won` naming the field."""

    default_error_messages = {NOT_WHOLE_WON: NOT_WHOLE_WON_MESSAGE}

    def __init__(self, *, max_digits: int = 10, **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=2, **kwargs)

    def validate_precision(self, value):
        # Before the digit counts: 1000.123 is refused for its fraction, not for its third decimal.
        if not is_whole_won(value):
            self.fail(NOT_WHOLE_WON)
        return super().validate_precision(value)

    def to_representation(self, value) -> int:
        return int(value)


@extend_schema_field(
    {"type": "string", "enum": [CURRENCY], "description": "Every amount of the object is in this currency."}
)
class CurrencyField(serializers.Field):
    """The currency of an object's amounts: always KRW (whole won)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value) -> str:
        return CURRENCY


class LoginEmailField(serializers.EmailField):
    """A login's email address, validated and turned into its one normal form (c4ang.emails): the
    value every account stores and every sign-in looks up. A refusal names the field, with the code
    `invalid`, `invisible_character` or `confusable_characters`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)
        # email-validator checks the syntax; Django's regex would refuse IDNA it accepts and pass look-alikes.
        self.validators = [validator for validator in self.validators if not isinstance(validator, EmailValidator)]

    def to_internal_value(self, data) -> str:
        try:
            return emails.normalize_email(data)
        except emails.EmailRejected as rejected:
            raise serializers.ValidationError(rejected.message, code=rejected.code) from None


@extend_schema_field({"type": "string", "maxLength": korea.MAX_INPUT, "example": "010-1234-5678"})
class KoreanPhoneField(serializers.CharField):
    """A Korean telephone number (c4ang.korea.phone_normalize: mobile, landline, 070, 15xx/16xx/18xx),
    typed with or without hyphens and spaces, stored and answered in its hyphenated form
    (010-1234-5678). Anything else is a 400 `invalid_phone` naming the field."""

    default_error_messages = {
        "invalid_phone": _("Not a Korean telephone number (e.g. 010-1234-5678, 02-123-4567, 1588-1234).")
    }

    def to_internal_value(self, data) -> str:
        text = super().to_internal_value(data)
        phone = korea.phone_normalize(text)
        if phone is None:
            self.fail("invalid_phone")
        return phone


@extend_schema_field({"type": "string", "pattern": korea.POSTAL_CODE_PATTERN, "example": "06236"})
class PostalCodeField(serializers.CharField):
    """A Korean postal code: five digits (06236). Anything else is a 400 `invalid_postal_code`."""

    default_error_messages = {"invalid_postal_code": _("Not a postal code: five digits, e.g. 06236.")}

    def to_internal_value(self, data) -> str:
        code = korea.postal_code_normalize(super().to_internal_value(data))
        if code is None:
            self.fail("invalid_postal_code")
        return code
