from axes.helpers import get_cool_off
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from c4ang.api.address import ShippingAddressInputSerializer
from c4ang.api.fields import LoginEmailField
from c4ang.api.schema import domain_errors
from c4ang.api.throttling import AuthRateThrottle, SignInAccountThrottle
from c4ang.api.tokens import RefreshToken
from c4ang.api.views import FilteredListApi
from c4ang.security import client_ip, sign_in_username
from customers import errors, selectors, services


def phone_field() -> serializers.RegexField:
    """An optional phone number as people type it: digits, +, -, parentheses and spaces."""
    return serializers.RegexField(r"^[0-9+\-() ]{0,20}$", max_length=20, required=False, allow_blank=True)


class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()
    phone = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AuthThrottleMixin:
    throttle_classes = [AuthRateThrottle]


class RegisterApi(AuthThrottleMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    class InputSerializer(serializers.Serializer):
        email = LoginEmailField()
        password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
        name = serializers.CharField(max_length=100)
        phone = phone_field()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: CustomerOutputSerializer,
            **domain_errors(errors.PasswordRejected, errors.EmailAlreadyRegistered),
        },
        operation_id="customers_register",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_register(**data.validated_data)
        return Response(CustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class SignInLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "sign_in_locked"
    default_detail = "Too many failed sign-ins for this account from this address; try again later."

    def __init__(self, wait: float):
        super().__init__()
        self.wait = wait


class TokenObtainSerializer(jwt_serializers.TokenObtainPairSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The account is looked up by the address's normal form, the one registration stored.
        self.fields[self.username_field] = LoginEmailField(write_only=True)


class TokenObtainApi(TokenObtainPairView):
    """Sign in with email and password: returns an access and a refresh token. The email is
    matched in its normal form (case, fullwidth letters and IDNA do not matter). Throttled per IP
    and per account; after AXES_FAILURE_LIMIT failures for one account from one address, that pair
    is locked out (429 `sign_in_locked`, as in the admin)."""

    serializer_class = TokenObtainSerializer
    throttle_classes = [AuthRateThrottle, SignInAccountThrottle]

    def post(self, request, *args, **kwargs):
        try:
            response = super().post(request, *args, **kwargs)
        except exceptions.AuthenticationFailed:
            # django-axes marks the request when this failure reached the limit or the pair was locked.
            if getattr(request, "axes_locked_out", False):
                raise SignInLocked(wait=get_cool_off(request).total_seconds()) from None
            raise
        # A success clears the failures, as an admin sign-in does (simplejwt sends no user_logged_in).
        axes_reset(ip=client_ip(request), username=sign_in_username(request, request.data))
        return response


class OneUseRefreshToken(RefreshToken):
    def blacklist(self):
        # Only the exchange that creates the blacklist row gets a new pair: the replays racing it
        # passed the blacklist check too, and lose here.
        blacklisted, created = super().blacklist()
        if not created:
            raise TokenError("Token is blacklisted")
        return blacklisted, created


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    token_class = OneUseRefreshToken

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist:
            # A correctly signed token of an account that is gone: no account to refresh for.
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None


class TokenBlacklistSerializer(jwt_serializers.TokenBlacklistSerializer):
    token_class = RefreshToken


class TokenRefreshApi(AuthThrottleMixin, TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token. A refresh token
    works once: replayed, even concurrently, it is refused (401 `token_not_valid`)."""

    serializer_class = TokenRefreshSerializer


class LogoutApi(AuthThrottleMixin, TokenBlacklistView):
    """Sign out: the refresh token is revoked, so it can no longer be exchanged. Access tokens are
    not revoked: they lapse within JWT_ACCESS_MINUTES, so the client drops them."""

    serializer_class = TokenBlacklistSerializer

    @extend_schema(responses={204: None}, operation_id="customers_logout")
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, required=False)
        phone = phone_field()

    @extend_schema(responses=CustomerOutputSerializer, operation_id="customers_me_retrieve")
    def get(self, request):
        profile = selectors.customer_profile_cached(
            user=request.user, build=lambda customer: CustomerOutputSerializer(customer).data
        )
        return Response(profile)

    @extend_schema(request=InputSerializer, responses=CustomerOutputSerializer, operation_id="customers_me_update")
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_update(
            customer=selectors.customer_for_user(user=request.user), **data.validated_data
        )
        return Response(CustomerOutputSerializer(customer).data)


# --- address book ----------------------------------------------------------------------------------


class AddressOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    label = serializers.CharField()
    recipient = serializers.CharField()
    phone = serializers.CharField()
    postal_code = serializers.CharField()
    road_address = serializers.CharField()
    detail = serializers.CharField()
    is_default = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _signed_in_customer_id(request):
    # Staff without a customer profile have no address book: 404 customer_not_found.
    return selectors.customer_for_user(user=request.user).pk


class AddressListCreateApi(APIView):
    """The signed-in customer's address book: the default address first, then the newest. Holds at
    most CUSTOMER_MAX_ADDRESSES addresses, so the list is not paginated. The first address added
    becomes the default."""

    class InputSerializer(ShippingAddressInputSerializer):
        """An address of the book: a shipping address, its label and whether it is the default."""

        label = serializers.CharField(max_length=30, allow_blank=True, default="", help_text="e.g. 집, 회사.")
        is_default = serializers.BooleanField(default=False)

    @extend_schema(responses=AddressOutputSerializer(many=True), operation_id="customers_addresses_list")
    def get(self, request):
        addresses = selectors.address_list_for_customer(customer_id=_signed_in_customer_id(request))
        return Response(AddressOutputSerializer(addresses, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: AddressOutputSerializer, **domain_errors(errors.AddressLimitReached)},
        operation_id="customers_addresses_create",
    )
    def post(self, request):
        """Add an address: the first one becomes the default, as does one added with `is_default: true`.
        The phone number is stored in its hyphenated form (010-1234-5678); a full book is a 409."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = services.address_create(customer_id=_signed_in_customer_id(request), **data.validated_data)
        return Response(AddressOutputSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailApi(APIView):
    """One address of the signed-in customer's book; another customer's is a 404 `address_not_found`.
    Orders already placed keep their own copy of the address: editing or deleting it changes none."""

    @extend_schema(
        responses={200: AddressOutputSerializer, **domain_errors(errors.AddressNotFound)},
        operation_id="customers_addresses_retrieve",
    )
    def get(self, request, address_id):
        address = selectors.address_get_for_customer(customer_id=_signed_in_customer_id(request), address_id=address_id)
        return Response(AddressOutputSerializer(address).data)

    @extend_schema(
        request=AddressListCreateApi.InputSerializer(partial=True),
        responses={
            200: AddressOutputSerializer,
            **domain_errors(errors.AddressNotFound, errors.AddressDefaultRequired),
        },
        operation_id="customers_addresses_update",
    )
    def patch(self, request, address_id):
        """Change some fields. `is_default: true` makes it the default; the default is unset only by
        making another address the default (409 `address_default_required`)."""
        data = AddressListCreateApi.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        address = services.address_update(
            customer_id=_signed_in_customer_id(request), address_id=address_id, **data.validated_data
        )
        return Response(AddressOutputSerializer(address).data)

    @extend_schema(
        responses={204: None, **domain_errors(errors.AddressNotFound)}, operation_id="customers_addresses_delete"
    )
    def delete(self, request, address_id):
        """Delete it; when it was the default, the most recently added of the others becomes the default."""
        services.address_delete(customer_id=_signed_in_customer_id(request), address_id=address_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddressSetDefaultApi(APIView):
    """Make one of the signed-in customer's addresses the default: the previous default no longer is."""

    @extend_schema(
        request=None,
        responses={200: AddressOutputSerializer, **domain_errors(errors.AddressNotFound)},
        operation_id="customers_addresses_set_default",
    )
    def post(self, request, address_id):
        address = services.address_set_default(customer_id=_signed_in_customer_id(request), address_id=address_id)
        return Response(AddressOutputSerializer(address).data)


# --- staff -----------------------------------------------------------------------------------------


class StaffCustomerOutputSerializer(CustomerOutputSerializer):
    is_active = serializers.BooleanField(source="user.is_active")


class StaffCustomerListCreateApi(FilteredListApi):
    """Staff: every customer (search by name, email or phone), and creating a customer account."""

    permission_classes = [IsAdminUser]
    serializer_class = StaffCustomerOutputSerializer

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(max_length=100, required=False, default="")

    selector = staticmethod(selectors.customer_list)

    @extend_schema(
        request=RegisterApi.InputSerializer,
        responses={
            201: StaffCustomerOutputSerializer,
            **domain_errors(errors.PasswordRejected, errors.EmailAlreadyRegistered),
        },
    )
    def post(self, request):
        data = RegisterApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_register(**data.validated_data)
        return Response(StaffCustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class StaffCustomerDetailApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(MeApi.InputSerializer):
        is_active = serializers.BooleanField(required=False)

    @extend_schema(responses=StaffCustomerOutputSerializer)
    def get(self, request, customer_id):
        return Response(StaffCustomerOutputSerializer(selectors.customer_get_for_staff(customer_id=customer_id)).data)

    @extend_schema(request=InputSerializer, responses=StaffCustomerOutputSerializer)
    def patch(self, request, customer_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_staff_update(customer_id=customer_id, **data.validated_data)
        return Response(StaffCustomerOutputSerializer(customer).data)

    @extend_schema(responses={204: None})
    def delete(self, request, customer_id):
        """Deactivates the account: the customer row stays, since orders and payments refer to it."""
        services.customer_staff_update(customer_id=customer_id, is_active=False)
        return Response(status=status.HTTP_204_NO_CONTENT)
