"""The shipping address a customer gives: in the address book (customers) and inline at checkout (orders)."""

from rest_framework import serializers

from c4ang.api.fields import KoreanPhoneField, PostalCodeField


class ShippingAddressInputSerializer(serializers.Serializer):
    """Who receives a parcel and where: the recipient's name and telephone number (normalized to
    010-1234-5678), the five-digit postal code, the road-name address (도로명주소) and the rest of it
    (동/호수, optional)."""

    recipient = serializers.CharField(max_length=50, help_text="Who receives the parcel, e.g. 김민지; at most 50.")
    phone = KoreanPhoneField(
        help_text="The recipient's Korean telephone number, with or without hyphens; stored as 010-1234-5678."
    )
    postal_code = PostalCodeField(help_text="The five-digit postal code (우편번호), e.g. 06133.")
    road_address = serializers.CharField(
        max_length=200,
        help_text="The road-name address (도로명주소), e.g. 서울특별시 강남구 테헤란로 123; at most 200.",
    )
    detail = serializers.CharField(
        max_length=100,
        allow_blank=True,
        default="",
        help_text="The rest of the address (동/호수, floor), e.g. 4층; at most 100, optional.",
    )
