"""The shipping address a customer gives: in the address book (customers) and inline at checkout (orders)."""

from rest_framework import serializers

from c4ang.api.fields import KoreanPhoneField, PostalCodeField


class ShippingAddressInputSerializer(serializers.Serializer):
    """Who receives a parcel and where: the recipient's name and telephone number (normalized to
    010-1234-5678), the five-digit postal code, the road-name address (도로명주소) and the rest of it
    (동/호수, optional)."""

    recipient = serializers.CharField(max_length=50)
    phone = KoreanPhoneField()
    postal_code = PostalCodeField()
    road_address = serializers.CharField(max_length=200)
    detail = serializers.CharField(max_length=100, allow_blank=True, default="")
