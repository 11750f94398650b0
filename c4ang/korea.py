"""Korean formats people type into a shop: telephone numbers and postal codes.

Telephone numbers (as the numbering plan assigns them):
- mobile: 010 with 8 digits (010-1234-5678); the old 011, 016, 017, 018, 019 with 7 or 8 digits;
- Seoul 02 and the area codes 031 to 064 with 7 or 8 digits (02-123-4567, 031-1234-5678);
- internet telephones 070 with 8 digits (070-1234-5678);
- representative numbers 15xx, 16xx and 18xx with 4 digits and no area code (1588-1234).

A number may be typed with or without hyphens and spaces, with full-width digits (a Korean input
method's), or from abroad (+82 10-1234-5678); it is stored in the one hyphenated form above.

Postal codes are the five-digit 국가기초구역번호 (since 2015), e.g. 06236.
"""

import re
import unicodedata

POSTAL_CODE_PATTERN = r"^[0-9]{5}$"

AREA_CODES = frozenset(
    ["031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055", "061", "062", "063", "064"]
)
OLD_MOBILE_PREFIXES = frozenset(["011", "016", "017", "018", "019"])

# Longer input is no number or code anyone types: refused before any work.
MAX_INPUT = 30
_SEPARATORS = re.compile(r"[\s-]+")
_DIGITS = re.compile(r"[0-9]+")
_REPRESENTATIVE = re.compile(r"1[568][0-9]{6}")


def _canonical(text: str) -> str:
    # Full-width digits, hyphens and spaces (U+FF10..., U+FF0D, U+3000) become their ASCII forms.
    return unicodedata.normalize("NFKC", text).strip()


def _hyphenate(prefix: str, subscriber: str) -> str:
    # The exchange is the subscriber number less its last four digits: 3 or 4 digits.
    return f"{prefix}-{subscriber[:-4]}-{subscriber[-4:]}"


def phone_normalize(text: str) -> str | None:
    """A Korean telephone number in its canonical hyphenated form (010-1234-5678, 02-123-4567,
    031-1234-5678, 070-1234-5678, 1588-1234), or None when `text` is not one."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        return None
    text = _canonical(text)
    if text.startswith("+82"):
        # Dialled from abroad the trunk prefix 0 is dropped (+82 10-1234-5678); some write it anyway.
        text = "0" + _SEPARATORS.sub("", text[3:]).removeprefix("0")
    digits = _SEPARATORS.sub("", text)
    if not _DIGITS.fullmatch(digits):
        return None
    if _REPRESENTATIVE.fullmatch(digits):
        return f"{digits[:4]}-{digits[4:]}"
    if digits.startswith("02"):
        prefix, subscriber = "02", digits[2:]
        lengths = (7, 8)
    else:
        prefix, subscriber = digits[:3], digits[3:]
        if prefix in ("010", "070"):
            lengths = (8,)
        elif prefix in OLD_MOBILE_PREFIXES or prefix in AREA_CODES:
            lengths = (7, 8)
        else:
            return None
    if len(subscriber) not in lengths:
        return None
    # A landline exchange never begins with 0: that is another prefix typed after the area code.
    if subscriber[0] == "0" and (prefix == "02" or prefix in AREA_CODES):
        return None
    return _hyphenate(prefix, subscriber)


def postal_code_normalize(text: str) -> str | None:
    """A postal code as five ASCII digits (full-width digits and surrounding spaces accepted), or None."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        return None
    text = _canonical(text)
    return text if re.fullmatch(POSTAL_CODE_PATTERN, text) else None
