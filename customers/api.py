from axes.helpers import get_cool_off
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from c4ang.api.address import ShippingAddressInputSerializer
from c4ang.api.fields import KoreanPhoneField, LoginEmailField, PostalCodeField
from c4ang.api.schema import domain_errors
from c4ang.api.throttling import AuthRateThrottle, FixedWindowRateThrottle, SignInAccountThrottle
from c4ang.api.tokens import RefreshToken
from c4ang.api.views import FilteredListApi
from c4ang.emails import sign_in_key
from c4ang.security import client_ip, sign_in_username
from customers import errors, selectors, services

# What AUTH_PASSWORD_VALIDATORS (and the 128-character field) ask of a new password: what apps show
# beside the field, so that it is not discovered by a 400 (a test keeps it in step with the settings).
PASSWORD_RULES = (
    "8 to 128 characters, not all digits, not one of the 20,000 most common passwords and not too "  # noqa: S105 - rules
    "similar to the email address; a refusal is a 400 `password_invalid` naming the field, its message "
    "saying which rule."
)

EXAMPLE_CUSTOMER_ID = "3f2b8c1e-5d4a-4e7b-9c6f-1a2b3c4d5e6f"
EXAMPLE_ADDRESS_ID = "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
EXAMPLE_ACCESS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.Q2hhbmdlTWU"
EXAMPLE_REFRESH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.UmVmcmVzaE1l"
EXAMPLE_PASSWORD = "gangnam-autumn-2026"  # noqa: S105 - a documentation example


def phone_field(**kwargs) -> serializers.RegexField:
    """An optional phone number as people type it: digits, +, -, parentheses and spaces."""
    return serializers.RegexField(
        r"^[0-9+\-() ]{0,20}$",
        max_length=20,
        required=False,
        allow_blank=True,
        help_text="A telephone number as the customer types it (digits, +, -, parentheses, spaces; at most 20), "
        "e.g. 010-1234-5678; blank for none.",
        **kwargs,
    )


def password_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(max_length=128, write_only=True, trim_whitespace=False, help_text=help_text)


CUSTOMER_EXAMPLE = {
    "id": EXAMPLE_CUSTOMER_ID,
    "email": "kim.minji@example.kr",
    "name": "김민지",
    "phone": "010-1234-5678",
    "created_at": "2026-12-01T14:03:27+09:00",
    "updated_at": "2026-12-01T14:03:27+09:00",
}


@extend_schema_serializer(examples=[OpenApiExample("A customer", value=CUSTOMER_EXAMPLE)])
class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The customer's id.")
    email = serializers.EmailField(
        help_text="The login's email, in its normal form (lower case, IDNA): the one to sign in with."
    )
    name = serializers.CharField(help_text="The customer's name, e.g. 김민지.")
    phone = serializers.CharField(help_text="A telephone number as the customer gave it; blank for none.")
    created_at = serializers.DateTimeField(help_text="When the account was created (ISO 8601, with offset).")
    updated_at = serializers.DateTimeField(help_text="When the profile last changed (ISO 8601, with offset).")


def token_lifetimes() -> dict:
    # The lifetimes the token classes stamp their `exp` with (SIMPLE_JWT, read when they were defined).
    return {
        "token_type": "Bearer",
        "expires_in": int(RefreshToken.access_token_class.lifetime.total_seconds()),
        "refresh_expires_in": int(RefreshToken.lifetime.total_seconds()),
    }


def token_pair_for(user) -> dict:
    """A new access and refresh token of the user, as the sign-in answers them."""
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh), **token_lifetimes()}


TOKENS_EXAMPLE = {
    "access": EXAMPLE_ACCESS,
    "refresh": EXAMPLE_REFRESH,
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_expires_in": 604800,
}


@extend_schema_serializer(examples=[OpenApiExample("A token pair", value=TOKENS_EXAMPLE)])
class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField(
        help_text="The access token (a JWT): send it as `Authorization: Bearer <access>` on every signed-in "
        "call. It lapses after `expires_in` seconds: then exchange the refresh token for a new pair."
    )
    refresh = serializers.CharField(
        help_text="The refresh token: exchange it at POST /api/v1/customers/token/refresh/ for a new pair. It "
        "works once, lapses after `refresh_expires_in` seconds, and is revoked by signing out, a password "
        "change or reset and deleting the account. Keep it where other sites' scripts cannot read it."
    )
    token_type = serializers.ChoiceField(
        choices=[("Bearer", "Bearer")], help_text="How to send the access token: `Authorization: Bearer <access>`."
    )
    expires_in = serializers.IntegerField(
        help_text="Seconds the access token is valid from now (JWT_ACCESS_MINUTES; 900 by default)."
    )
    refresh_expires_in = serializers.IntegerField(
        help_text="Seconds the refresh token is valid from now (JWT_REFRESH_DAYS; 604800, 7 days, by default)."
    )


SIGNED_UP_EXAMPLE = OpenApiExample("Signed up", value={"customer": CUSTOMER_EXAMPLE, **TOKENS_EXAMPLE})


@extend_schema_serializer(examples=[SIGNED_UP_EXAMPLE])
class RegisterOutputSerializer(TokenPairOutputSerializer):
    customer = CustomerOutputSerializer(help_text="The new customer's profile.")


class AuthThrottleMixin:
    throttle_classes = [AuthRateThrottle]


class RegisterApi(AuthThrottleMixin, APIView):
    """Create a customer account and sign it in: the answer holds the profile and a token pair, as a
    sign-in's. The email is stored in its normal form (case, fullwidth letters and IDNA do not matter);
    one already registered is a 409. Per-IP request limit of the auth endpoints (THROTTLE_AUTH)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "Sign up",
                value={
                    "email": "kim.minji@example.kr",
                    "password": EXAMPLE_PASSWORD,
                    "name": "김민지",
                    "phone": "010-1234-5678",
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        email = LoginEmailField(
            help_text="The login's email, at most 254 characters; stored and signed in with in its normal form."
        )
        password = password_field(f"The password: {PASSWORD_RULES}")
        name = serializers.CharField(max_length=100, help_text="The customer's name, at most 100 characters.")
        phone = phone_field()

    @extend_schema(
        summary="Sign up",
        request=InputSerializer,
        responses={
            201: RegisterOutputSerializer,
            **domain_errors(errors.PasswordRejected, errors.EmailInvalid, errors.EmailAlreadyRegistered),
        },
        operation_id="customers_register",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_register(**data.validated_data)
        body = {"customer": customer, **token_pair_for(customer.user)}
        return Response(RegisterOutputSerializer(body).data, status=status.HTTP_201_CREATED)


class SignInLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "sign_in_locked"
    default_detail = _("Too many failed sign-ins for this account from this address; try again later.")

    def __init__(self, wait: float):
        super().__init__()
        self.wait = wait


@extend_schema_serializer(
    examples=[OpenApiExample("Sign in", value={"email": "kim.minji@example.kr", "password": EXAMPLE_PASSWORD})]
)
class TokenObtainSerializer(jwt_serializers.TokenObtainPairSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The account is looked up by the address's normal form, the one registration stored.
        self.fields[self.username_field] = LoginEmailField(
            write_only=True, help_text="The account's email, in any case or width (its normal form is matched)."
        )
        self.fields["password"].help_text = "The account's password."

    def validate(self, attrs):
        return {**super().validate(attrs), **token_lifetimes()}


class TokenObtainApi(TokenObtainPairView):
    """Sign in with email and password: returns an access and a refresh token. The email is
    matched in its normal form (case, fullwidth letters and IDNA do not matter). Throttled per IP
    and per account; after AXES_FAILURE_LIMIT failures for one account from one address, that pair
    is locked out (429 `sign_in_locked`, as in the admin). A wrong email or password is a 401
    `no_active_account` either way."""

    serializer_class = TokenObtainSerializer
    throttle_classes = [AuthRateThrottle, SignInAccountThrottle]

    @extend_schema(summary="Sign in", request=TokenObtainSerializer, responses=TokenPairOutputSerializer)
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
        # Under the user's row lock, held to the end of the exchange (TokenRefreshSerializer): a
        # revocation of all the user's tokens (password change, reset, deletion) waits, or is waited for.
        services.refresh_tokens_lock(user_id=self.payload.get(jwt_settings.USER_ID_CLAIM))
        # Only the exchange that creates the blacklist row gets a new pair: the replays racing it
        # passed the blacklist check too, and lose here.
        blacklisted, created = super().blacklist()
        if not created:
            raise TokenError(gettext("Token is blacklisted"))
        return blacklisted, created


@extend_schema_serializer(examples=[OpenApiExample("A refresh token", value={"refresh": EXAMPLE_REFRESH})])
class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="A refresh token from a sign-in, a sign-up or the last refresh.")


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    token_class = OneUseRefreshToken

    def validate(self, attrs):
        try:
            with transaction.atomic():
                data = super().validate(attrs)
        except get_user_model().DoesNotExist:
            # A correctly signed token of an account that is gone: no account to refresh for.
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None
        return {**data, **token_lifetimes()}


class TokenBlacklistSerializer(jwt_serializers.TokenBlacklistSerializer):
    token_class = RefreshToken


class TokenRefreshApi(AuthThrottleMixin, TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token. A refresh token
    works once: replayed, even concurrently, it is refused (401 `token_not_valid`), as is one revoked
    by signing out, a password change or reset, or deleting the account."""

    serializer_class = TokenRefreshSerializer

    @extend_schema(summary="Refresh the tokens", request=RefreshInputSerializer, responses=TokenPairOutputSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(AuthThrottleMixin, TokenBlacklistView):
    """Sign out: the refresh token is revoked, so it can no longer be exchanged. Access tokens are
    not revoked: they lapse within JWT_ACCESS_MINUTES, so the client drops them."""

    serializer_class = TokenBlacklistSerializer

    @extend_schema(
        summary="Sign out",
        request=RefreshInputSerializer,
        responses={204: None},
        operation_id="customers_logout",
    )
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema_serializer(examples=[OpenApiExample("New phone", value={"phone": "010-9876-5432"})])
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, required=False, help_text="A new name, at most 100 characters.")
        phone = phone_field()

    @extend_schema(summary="Read my profile", responses=CustomerOutputSerializer, operation_id="customers_me_retrieve")
    def get(self, request):
        """The signed-in customer's profile. Staff (who have no customer profile) get 404
        `customer_not_found`."""
        profile = selectors.customer_profile_cached(
            user=request.user, build=lambda customer: CustomerOutputSerializer(customer).data
        )
        return Response(profile)

    @extend_schema(
        summary="Change my profile",
        request=InputSerializer,
        responses=CustomerOutputSerializer,
        operation_id="customers_me_update",
    )
    def patch(self, request):
        """Change the signed-in customer's name or phone (the fields given). The email is the login's:
        it does not change here."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_update(
            customer=selectors.customer_for_user(user=request.user), **data.validated_data
        )
        return Response(CustomerOutputSerializer(customer).data)


# --- passwords and account deletion ----------------------------------------------------------------


class PasswordChangeApi(AuthThrottleMixin, APIView):
    """Change the signed-in customer's password, giving the current one. Every refresh token of the
    account is revoked (other devices are signed out once their access token lapses, within
    JWT_ACCESS_MINUTES); the answer is a new token pair for this client: use it from now on."""

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "Change the password",
                value={"old_password": EXAMPLE_PASSWORD, "new_password": "jeju-winter-sunrise-7"},
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        old_password = password_field("The current password; a wrong one is a 400 `password_incorrect` naming it.")
        new_password = password_field(f"The new password: {PASSWORD_RULES}")

    @extend_schema(
        summary="Change my password",
        request=InputSerializer,
        responses={
            200: TokenPairOutputSerializer,
            **domain_errors(errors.PasswordIncorrect, errors.PasswordRejected),
        },
    )
    def post(self, request):
        selectors.customer_for_user(user=request.user)  # customers' self-service: staff have the admin
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_change(user=request.user, **data.validated_data)
        return Response(TokenPairOutputSerializer(token_pair_for(request.user)).data)


class PasswordResetAccountThrottle(FixedWindowRateThrottle):
    """Reset mails asked for one address, whatever IP asks: nobody floods a customer's mailbox."""

    scope = "password_reset"

    def get_cache_key(self, request, view) -> str | None:
        account = sign_in_key(request.data.get("email")) if isinstance(request.data, dict) else None
        if account is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": account}


class PasswordResetApi(APIView):
    """Forgot the password: ask for a link to set a new one, mailed to the address if a customer
    account uses it. The answer is 202 with no body either way, so it does not tell whether the
    address has an account (nor does its time: a worker looks the account up and mails). The link is
    PASSWORD_RESET_URL with `uid` and `token` filled in: the app's page reads them and POSTs them with
    the new password to /api/v1/customers/password-reset/confirm/. It works once, for
    PASSWORD_RESET_MINUTES (60 by default). Limited per IP (THROTTLE_AUTH) and per address
    (THROTTLE_PASSWORD_RESET, 5 an hour)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AuthRateThrottle, PasswordResetAccountThrottle]

    @extend_schema_serializer(examples=[OpenApiExample("Forgot the password", value={"email": "kim.minji@example.kr"})])
    class InputSerializer(serializers.Serializer):
        email = LoginEmailField(help_text="The account's email, in any case or width.")

    @extend_schema(
        summary="Ask for a password reset link",
        request=InputSerializer,
        responses={202: None, **domain_errors(errors.EmailInvalid, errors.MailQueueUnavailable)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(**data.validated_data)
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(AuthThrottleMixin, APIView):
    """Set a new password with the `uid` and `token` of a mailed reset link. A link used before,
    expired or altered is a 400 `reset_token_invalid`: ask for a new one. Every refresh token of the
    account is revoked and its sign-in lockout lifted; sign in with the new password."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "A new password",
                value={
                    "uid": "M2YyYjhjMWUtNWQ0YS00ZTdiLTljNmYtMWEyYjNjNGQ1ZTZm",
                    "token": "cd8k2p-5e1f0a7b3c9d2e4f6a8b0c1d2e3f4a5b",
                    "new_password": "jeju-winter-sunrise-7",
                },
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        uid = serializers.CharField(max_length=64, help_text="The link's `uid` parameter, as it is.")
        token = serializers.CharField(max_length=64, help_text="The link's `token` parameter, as it is.")
        new_password = password_field(f"The new password: {PASSWORD_RULES}")

    @extend_schema(
        summary="Set a new password with a reset link",
        request=InputSerializer,
        responses={204: None, **domain_errors(errors.ResetTokenInvalid, errors.PasswordRejected)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeDeleteApi(AuthThrottleMixin, APIView):
    """회원탈퇴: delete the signed-in customer's account, confirming with the password. Refused (409
    `account_has_open_orders`) while an order is unpaid, paid and not yet delivered, or has a return
    in progress. Erased at once: name, phone, email, the address book, the cart, the sign-in records;
    the login can no longer sign in and every token of it is refused from now on. The orders and
    payments stay for the period the law requires (전자상거래법: 5 years), detached from any person;
    the same email may register again."""

    @extend_schema_serializer(examples=[OpenApiExample("Confirm", value={"password": EXAMPLE_PASSWORD})])
    class InputSerializer(serializers.Serializer):
        password = password_field("The current password; a wrong one is a 400 `password_incorrect` naming it.")

    @extend_schema(
        summary="Delete my account",
        request=InputSerializer,
        responses={204: None, **domain_errors(errors.PasswordIncorrect, errors.AccountHasOpenOrders)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.customer_delete(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- address book ----------------------------------------------------------------------------------

ADDRESS_EXAMPLE = {
    "id": EXAMPLE_ADDRESS_ID,
    "label": "회사",
    "recipient": "김민지",
    "phone": "010-1234-5678",
    "postal_code": "06133",
    "road_address": "서울특별시 강남구 테헤란로 123",
    "detail": "4층",
    "is_default": True,
    "created_at": "2026-12-01T14:05:10+09:00",
    "updated_at": "2026-12-01T14:05:10+09:00",
}


@extend_schema_serializer(examples=[OpenApiExample("An address", value=ADDRESS_EXAMPLE)])
class AddressOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The address's id: give it as `address_id` at checkout.")
    label = serializers.CharField(help_text="The customer's name for it, e.g. 집, 회사; blank for none.")
    recipient = serializers.CharField(help_text="Who receives the parcel.")
    phone = KoreanPhoneField(help_text="The recipient's telephone number, hyphenated (010-1234-5678).")
    postal_code = PostalCodeField(help_text="The five-digit postal code (우편번호).")
    road_address = serializers.CharField(help_text="The road-name address (도로명주소).")
    detail = serializers.CharField(help_text="The rest of the address (동/호수, floor); blank for none.")
    is_default = serializers.BooleanField(
        help_text="Whether this is the default address: exactly one of a non-empty book is."
    )
    created_at = serializers.DateTimeField(help_text="When it was added (ISO 8601, with offset).")
    updated_at = serializers.DateTimeField(help_text="When it last changed (ISO 8601, with offset).")


ADDRESS_ID = OpenApiParameter(
    "address_id",
    type=str,
    location=OpenApiParameter.PATH,
    description="The id of an address of the signed-in customer's book.",
)


def _signed_in_customer_id(request):
    # Staff without a customer profile have no address book: 404 customer_not_found.
    return selectors.customer_for_user(user=request.user).pk


class AddressListCreateApi(APIView):
    """The signed-in customer's address book: the default address first, then the newest. Holds at
    most CUSTOMER_MAX_ADDRESSES addresses, so the list is not paginated. The first address added
    becomes the default."""

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "Add an address",
                value={
                    "label": "회사",
                    "recipient": "김민지",
                    "phone": "010-1234-5678",
                    "postal_code": "06133",
                    "road_address": "서울특별시 강남구 테헤란로 123",
                    "detail": "4층",
                    "is_default": True,
                },
            )
        ]
    )
    class InputSerializer(ShippingAddressInputSerializer):
        """An address of the book: a shipping address, its label and whether it is the default."""

        label = serializers.CharField(
            max_length=30,
            allow_blank=True,
            default="",
            help_text="The customer's name for it, e.g. 집, 회사; at most 30.",
        )
        is_default = serializers.BooleanField(
            default=False, help_text="Make it the default address (the previous default no longer is)."
        )

    @extend_schema(
        summary="List my addresses",
        responses=AddressOutputSerializer(many=True),
        operation_id="customers_addresses_list",
    )
    def get(self, request):
        addresses = selectors.address_list_for_customer(customer_id=_signed_in_customer_id(request))
        return Response(AddressOutputSerializer(addresses, many=True).data)

    @extend_schema(
        summary="Add an address",
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
        summary="Read an address",
        parameters=[ADDRESS_ID],
        responses={200: AddressOutputSerializer, **domain_errors(errors.AddressNotFound)},
        operation_id="customers_addresses_retrieve",
    )
    def get(self, request, address_id):
        address = selectors.address_get_for_customer(customer_id=_signed_in_customer_id(request), address_id=address_id)
        return Response(AddressOutputSerializer(address).data)

    @extend_schema(
        summary="Change an address",
        parameters=[ADDRESS_ID],
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
        summary="Delete an address",
        parameters=[ADDRESS_ID],
        responses={204: None, **domain_errors(errors.AddressNotFound)},
        operation_id="customers_addresses_delete",
    )
    def delete(self, request, address_id):
        """Delete it; when it was the default, the most recently added of the others becomes the default."""
        services.address_delete(customer_id=_signed_in_customer_id(request), address_id=address_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddressSetDefaultApi(APIView):
    """Make one of the signed-in customer's addresses the default: the previous default no longer is."""

    @extend_schema(
        summary="Make an address the default",
        parameters=[ADDRESS_ID],
        request=None,
        responses={200: AddressOutputSerializer, **domain_errors(errors.AddressNotFound)},
        operation_id="customers_addresses_set_default",
    )
    def post(self, request, address_id):
        address = services.address_set_default(customer_id=_signed_in_customer_id(request), address_id=address_id)
        return Response(AddressOutputSerializer(address).data)


# --- staff -----------------------------------------------------------------------------------------

STAFF_CUSTOMER_EXAMPLES = [
    OpenApiExample("A customer", value={**CUSTOMER_EXAMPLE, "is_active": True, "deleted_at": None}),
    OpenApiExample(
        "A deleted account (anonymised)",
        value={
            **CUSTOMER_EXAMPLE,
            "email": "deleted-3f2b8c1e5d4a4e7b9c6f1a2b3c4d5e6f@deleted.invalid",
            "name": "",
            "phone": "",
            "updated_at": "2026-12-20T09:12:44+09:00",
            "is_active": False,
            "deleted_at": "2026-12-20T09:12:44+09:00",
        },
    ),
]


@extend_schema_serializer(examples=STAFF_CUSTOMER_EXAMPLES)
class StaffCustomerOutputSerializer(CustomerOutputSerializer):
    is_active = serializers.BooleanField(
        source="user.is_active", help_text="Whether the login may sign in (staff deactivate it; deletion does)."
    )
    deleted_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the customer deleted their account (회원탈퇴); null while it exists. A deleted "
        "account is an anonymised record (email deleted-<id>@deleted.invalid, name and phone blank) that "
        "its orders and payments still refer to.",
    )


CUSTOMER_ID = OpenApiParameter(
    "customer_id", type=str, location=OpenApiParameter.PATH, description="The customer's id."
)


class StaffCustomerListCreateApi(FilteredListApi):
    """Staff: every customer, newest first (search by name, email or phone), and creating a customer
    account. Deleted accounts are listed too, anonymised, with `deleted_at` set."""

    permission_classes = [IsAdminUser]
    serializer_class = StaffCustomerOutputSerializer

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(
            max_length=100,
            required=False,
            default="",
            help_text="Only customers whose name, email or phone contains this (any case), e.g. 김민지 or 1234.",
        )

    selector = staticmethod(selectors.customer_list)

    @extend_schema(summary="List customers")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a customer account",
        request=RegisterApi.InputSerializer,
        responses={
            201: StaffCustomerOutputSerializer,
            **domain_errors(errors.PasswordRejected, errors.EmailInvalid, errors.EmailAlreadyRegistered),
        },
    )
    def post(self, request):
        """Create a customer account with its password, as a sign-up does, without signing it in."""
        data = RegisterApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_register(**data.validated_data)
        return Response(StaffCustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class StaffCustomerDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema_serializer(examples=[OpenApiExample("Deactivate the login", value={"is_active": False})])
    class InputSerializer(MeApi.InputSerializer):
        is_active = serializers.BooleanField(
            required=False, help_text="false deactivates the login (it can no longer sign in); true reactivates it."
        )

    @extend_schema(
        summary="Read a customer",
        parameters=[CUSTOMER_ID],
        responses={200: StaffCustomerOutputSerializer, **domain_errors(errors.CustomerNotFound)},
    )
    def get(self, request, customer_id):
        """Staff: one customer's profile and login state; a deleted account shows anonymised."""
        return Response(StaffCustomerOutputSerializer(selectors.customer_get_for_staff(customer_id=customer_id)).data)

    @extend_schema(
        summary="Change a customer",
        parameters=[CUSTOMER_ID],
        request=InputSerializer,
        responses={
            200: StaffCustomerOutputSerializer,
            **domain_errors(errors.CustomerNotFound, errors.CustomerDeleted),
        },
    )
    def patch(self, request, customer_id):
        """Staff: change a customer's name or phone, or (de)activate the login. A deleted account is
        a record kept as it is: changing it is a 409 `customer_deleted`."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_staff_update(customer_id=customer_id, **data.validated_data)
        return Response(StaffCustomerOutputSerializer(customer).data)

    @extend_schema(
        summary="Deactivate a customer",
        parameters=[CUSTOMER_ID],
        responses={204: None, **domain_errors(errors.CustomerNotFound)},
    )
    def delete(self, request, customer_id):
        """Deactivates the account: the customer row stays, since orders and payments refer to it."""
        services.customer_staff_update(customer_id=customer_id, is_active=False)
        return Response(status=status.HTTP_204_NO_CONTENT)
