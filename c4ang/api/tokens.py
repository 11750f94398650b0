"""The JWTs every module accepts: simplejwt's, refused as invalid when the user id they carry
cannot be a user's id.

simplejwt checks the signature, the expiry and the type, then looks the user up with the claim
as it is: a correctly signed token whose `user_id` is not a UUID made that lookup raise, a 500.
Such a token names no account: it is as invalid as a forged one (401 `token_not_valid`).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings


class UserIdChecked:
    def verify(self) -> None:
        super().verify()
        user_id = self.payload.get(api_settings.USER_ID_CLAIM)
        if user_id is None:
            return  # simplejwt refuses a token without one where it needs the user
        field = get_user_model()._meta.get_field(api_settings.USER_ID_FIELD)
        try:
            field.to_python(user_id)
        except ValidationError:
            raise TokenError(gettext("Token has an invalid user id")) from None


class AccessToken(UserIdChecked, tokens.AccessToken):
    """The access token JWTAuthentication accepts (SIMPLE_JWT["AUTH_TOKEN_CLASSES"])."""


class RefreshToken(UserIdChecked, tokens.RefreshToken):
    """A refresh token as the refresh and sign-out endpoints read it."""
