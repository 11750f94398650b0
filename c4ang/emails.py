"""Email addresses as logins: one normal form, so that one mailbox is one account.

Every door (register, sign-in and its request limit and lockout, staff's customer forms, the
admin's sign-in, `create_staff`) passes the address through `normalize_email`, and the accounts
store its result, so a lookup is an exact match:

- NFKC first: `demo1@c4ang.com` typed in fullwidth letters (U+FF44...) is `demo1@c4ang.com`;
- invisible characters (zero-width, bidi controls, other control and format characters, the
  Hangul fillers) are refused, not dropped: an address that carries one means to look like another;
- email-validator checks the syntax: no quoted local part, display name or IP literal, an ASCII
  local part, the domain through IDNA (UTS #46, lower case; `xn--` input comes back as Unicode);
- a domain label that mixes scripts with look-alike letters (a Cyrillic U+0441 for the `c` of `c4ang`) is refused
  (confusable_homoglyphs, Unicode's confusables data);
- the local part is case-folded: `DEMO1@c4ang.com` is the same account as `demo1@c4ang.com`.
"""

import unicodedata

import email_validator
from confusable_homoglyphs import confusables
from django.utils import translation
from django.utils.translation import gettext

# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt): rendered as nothing.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# Control, format, private-use, surrogate and unassigned code points, and separators.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Zs"}


class EmailRejected(ValueError):
    """Not an address an account may have; `code` says why (invalid, invisible_character, confusable_characters)."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def _is_invisible(char: str) -> bool:
    point = ord(char)
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES or any(
        low <= point <= high for low, high in _DEFAULT_IGNORABLE
    )


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"


def _syntax_refusal(error: email_validator.EmailNotValidError) -> str:
    # email-validator says what is wrong in English only: in another language the refusal is general.
    if (translation.get_language() or "").startswith("en"):
        return str(error)
    return gettext("Enter a valid email address.")


def normalize_email(value: str) -> str:
    """The one normal form of a login's email address; EmailRejected if no account may have it."""
    if not isinstance(value, str):
        raise EmailRejected(gettext("Enter a valid email address."))
    value = unicodedata.normalize("NFKC", value).strip()
    invisible = sorted({char for char in value if _is_invisible(char)})
    if invisible:
        raise EmailRejected(
            gettext("The email address contains invisible characters: %(characters)s.")
            % {"characters": ", ".join(map(_describe, invisible))},
            code="invisible_character",
        )
    try:
        address = email_validator.validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except email_validator.EmailNotValidError as error:
        raise EmailRejected(_syntax_refusal(error)) from None
    for label in address.domain.split("."):
        if confusables.is_dangerous(label):
            raise EmailRejected(
                gettext("The domain label %(label)s mixes scripts with look-alike letters.") % {"label": repr(label)},
                code="confusable_characters",
            )
    return f"{address.local_part.casefold()}@{address.domain}"


def sign_in_key(value) -> str | None:
    """The account a sign-in attempt names, for its request limit and lockout: the normal form, or
    for an address no account can have (refused before any password check) the text as typed,
    case-folded; None without one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalize_email(value)
    except EmailRejected:
        return unicodedata.normalize("NFKC", value).strip().casefold()[:254]
