"""Korean telephone numbers and postal codes (c4ang.korea) and the API's fields and shipping address on them."""

import pytest
from rest_framework.exceptions import ValidationError

from c4ang import korea
from c4ang.api.address import ShippingAddressInputSerializer
from c4ang.api.fields import KoreanPhoneField, PostalCodeField

# What a Korean input method types in its full-width mode: digits U+FF10..., hyphen U+FF0D, space U+3000.
FULL_WIDTH = str.maketrans({**{str(n): chr(0xFF10 + n) for n in range(10)}, "-": "\uff0d", " ": "\u3000"})


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def arabic_indic(digits: str) -> str:
    # Digits to Python's str.isdigit and \d, never to a telephone or the post.
    return "".join(chr(0x0660 + int(n)) for n in digits)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        # mobile
        ("010-1234-5678", "010-1234-5678"),
        ("01012345678", "010-1234-5678"),
        ("010 1234 5678", "010-1234-5678"),
        (" 010-1234 5678 ", "010-1234-5678"),
        ("011-123-4567", "011-123-4567"),
        ("0111234567", "011-123-4567"),
        ("016-1234-5678", "016-1234-5678"),
        ("017-123-4567", "017-123-4567"),
        ("018-123-4567", "018-123-4567"),
        ("01912345678", "019-1234-5678"),
        # Seoul, with a three- or four-digit exchange
        ("02-123-4567", "02-123-4567"),
        ("021234567", "02-123-4567"),
        ("0212345678", "02-1234-5678"),
        ("02 1234 5678", "02-1234-5678"),
        # area codes
        ("031-1234-5678", "031-1234-5678"),
        ("0311234567", "031-123-4567"),
        ("032-123-4567", "032-123-4567"),
        ("044-123-4567", "044-123-4567"),
        ("051-1234-5678", "051-1234-5678"),
        ("064-710-1234", "064-710-1234"),
        # internet telephones
        ("070-1234-5678", "070-1234-5678"),
        ("07012345678", "070-1234-5678"),
        # representative numbers
        ("1588-1234", "1588-1234"),
        ("15881234", "1588-1234"),
        ("1600-1234", "1600-1234"),
        ("1899-1234", "1899-1234"),
        # full-width digits, hyphen and space of a Korean input method
        (full_width("010-1234-5678"), "010-1234-5678"),
        (full_width("02 123 4567"), "02-123-4567"),
        # dialled from abroad
        ("+82 10-1234-5678", "010-1234-5678"),
        ("+821012345678", "010-1234-5678"),
        ("+82-2-123-4567", "02-123-4567"),
        ("+82 010 1234 5678", "010-1234-5678"),
    ],
)
def test_phone_numbers_are_stored_in_their_hyphenated_form(typed, stored):
    assert korea.phone_normalize(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "010-1234-567",  # 010 has eight digits after it
        "010-123-4567",
        "010-1234-56789",
        "011-12-3456",  # the old mobile prefixes have seven or eight
        "011-12345-6789",
        "02-12-3456",  # Seoul too
        "02-12345-6789",
        "02-012-3456",  # an exchange never begins with 0
        "031-0123-4567",
        "070-123-4567",  # 070 has eight
        "012-1234-5678",  # not a prefix
        "030-123-4567",
        "065-123-4567",
        "080-123-4567",
        "1700-1234",  # not a representative number
        "1588-123",
        "1588-12345",
        "+1 010-1234-5678",
        "010-1234-567a",
        "010.1234.5678",
        "(02) 123-4567",
        arabic_indic("01012345678"),
        "010-1234-5678" * 3,
    ],
)
def test_what_is_not_a_korean_number_is_refused(typed):
    assert korea.phone_normalize(typed) is None


def test_a_non_string_is_not_a_number():
    assert korea.phone_normalize(1012345678) is None
    assert korea.postal_code_normalize(6236) is None


@pytest.mark.parametrize(
    ("typed", "stored"), [("06236", "06236"), (" 63309 ", "63309"), (full_width("06236"), "06236")]
)
def test_postal_codes_are_five_digits(typed, stored):
    assert korea.postal_code_normalize(typed) == stored


@pytest.mark.parametrize("typed", ["", "6236", "062366", "062-36", "135-080", "O6236", arabic_indic("06236")])
def test_what_is_not_a_postal_code_is_refused(typed):
    assert korea.postal_code_normalize(typed) is None


def test_the_phone_field_normalizes_and_refuses_with_its_code():
    field = KoreanPhoneField()

    assert field.run_validation("01012345678") == "010-1234-5678"
    with pytest.raises(ValidationError) as refused:
        field.run_validation("12345")
    assert refused.value.get_codes() == ["invalid_phone"]


def test_the_postal_code_field_refuses_with_its_code():
    field = PostalCodeField()

    assert field.run_validation(" 06236") == "06236"
    with pytest.raises(ValidationError) as refused:
        field.run_validation("135-080")
    assert refused.value.get_codes() == ["invalid_postal_code"]


ADDRESS = {
    "recipient": "김민지",
    "phone": "010 1234 5678",
    "postal_code": "06236",
    "road_address": "서울특별시 강남구 테헤란로 152",
}


def test_a_shipping_address_is_validated_into_its_stored_form():
    given = ShippingAddressInputSerializer(data={**ADDRESS, "recipient": " 김민지 "})

    assert given.is_valid(), given.errors
    assert given.validated_data == {
        "recipient": "김민지",
        "phone": "010-1234-5678",
        "postal_code": "06236",
        "road_address": "서울특별시 강남구 테헤란로 152",
        "detail": "",
    }


def test_a_shipping_address_names_each_bad_field():
    given = ShippingAddressInputSerializer(
        data={"recipient": "가" * 51, "phone": "010-12", "postal_code": "1234", "detail": "나" * 101}
    )

    assert not given.is_valid()
    assert {field: [error.code for error in errors] for field, errors in given.errors.items()} == {
        "recipient": ["max_length"],
        "phone": ["invalid_phone"],
        "postal_code": ["invalid_postal_code"],
        "road_address": ["required"],
        "detail": ["max_length"],
    }
