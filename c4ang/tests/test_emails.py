"""The one normal form of a login's email address, and what has none."""

import pytest

from c4ang.emails import EmailRejected, normalize_email, sign_in_key


def fullwidth(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("demo1@c4ang.com", "demo1@c4ang.com"),
        ("DEMO1@C4ANG.COM", "demo1@c4ang.com"),
        (fullwidth("demo1@c4ang.com"), "demo1@c4ang.com"),
        ("\u3000 Kim.Minji@Example.kr \t", "kim.minji@example.kr"),  # an ideographic space around it
        ("kim@xn--3e0b707e.kr", "kim@한국.kr"),  # the ASCII (IDNA) spelling of the domain
        ("KIM@한국.KR", "kim@한국.kr"),
        ("a@пример.рф", "a@пример.рф"),  # one script per label is no look-alike
        ("ops+alerts@c4ang.com", "ops+alerts@c4ang.com"),
    ],
)
def test_each_spelling_has_one_normal_form(typed, normal):
    assert normalize_email(typed) == normal
    assert normalize_email(normal) == normal  # normal already: the same again


@pytest.mark.parametrize(
    ("typed", "code", "message"),
    [
        ("demo1@c4ang.com\u200b", "invisible_character", "invisible characters: U+200B ZERO WIDTH SPACE."),
        ("demo\u00ad1@c4ang.com", "invisible_character", "invisible characters: U+00AD SOFT HYPHEN."),
        ("demo1@c4\u2066ang.com", "invisible_character", "invisible characters: U+2066 LEFT-TO-RIGHT ISOLATE."),
        ("demo1@c4ang\u115f.com", "invisible_character", "invisible characters: U+115F HANGUL CHOSEONG FILLER."),
        ("demo 1@c4ang.com", "invisible_character", "invisible characters: U+0020 SPACE."),
        ("demo1@\u04414ang.com", "confusable_characters", "The domain label '\u04414ang' mixes scripts"),
        ("demo1@p\u0430ypal.com", "confusable_characters", "The domain label 'p\u0430ypal' mixes scripts"),
        ("kim@c4ang", "invalid", "It should have a period."),
        ("kim@localhost", "invalid", "It should have a period."),
        ('"kim minji"@c4ang.com', "invisible_character", "U+0020 SPACE"),
        ("kim@[127.0.0.1]", "invalid", "A bracketed IP address after the @-sign is not allowed here."),
        ("김민지@c4ang.com", "invalid", "Internationalized characters before the @-sign are not supported"),
        ("no-at-sign", "invalid", "An email address must have an @-sign."),
        ("", "invalid", "An email address must have an @-sign."),
        ("a" * 250 + "@c4ang.com", "invalid", "The email address is too long (6 characters too many)."),
        (None, "invalid", "Enter a valid email address."),
        (["demo1@c4ang.com"], "invalid", "Enter a valid email address."),
    ],
)
def test_an_address_no_account_can_have_is_refused_with_its_reason(typed, code, message):
    with pytest.raises(EmailRejected) as rejected:
        normalize_email(typed)

    assert rejected.value.code == code
    assert message in rejected.value.message


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("DEMO1@c4ang.com", "demo1@c4ang.com"),
        (fullwidth("Demo1@C4ang.com"), "demo1@c4ang.com"),
        ("Demo1@C4ANG.com\u200b", "demo1@c4ang.com\u200b"),  # no normal form: as typed, case-folded
        ("  ", None),
        (None, None),
        (5, None),
    ],
)
def test_the_sign_in_key_of_an_attempt(typed, key):
    assert sign_in_key(typed) == key
