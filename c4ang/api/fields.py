"""Serializer fields every module's API shares."""

from django.core.validators import EmailValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from c4ang import emails
from c4ang.money import NOT_WHOLE_WON, NOT_WHOLE_WON_MESSAGE, is_whole_won


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?\d{0,8}(?:\.0{0,2})?$"})
class MoneyField(serializers.DecimalField):
    """An amount of money in whole won (KRW has no minor unit), as the models store it: up to 8
    digits, written with two zero decimals ("10000.00"). Input may be a JSON number or a string;
    a fractional part (1000.50) is a 400 `not_whole_won` naming the field."""

    default_error_messages = {NOT_WHOLE_WON: NOT_WHOLE_WON_MESSAGE}

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, **kwargs)

    def validate_precision(self, value):
        # Before the digit counts: 1000.123 is refused for its fraction, not for its third decimal.
        if not is_whole_won(value):
            self.fail(NOT_WHOLE_WON)
        return super().validate_precision(value)


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
