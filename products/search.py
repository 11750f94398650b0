"""Catalog search: what a search text means, and the conditions that find and rank products by it.

A search is the words of the text (runs of letters and digits; punctuation separates words), each of
which must be found in the product's name or brand, or start a word of the name of its category or
of an ancestor category. A word of three or more letters (Hangul syllables or other characters) may also
be found with one of them wrong (a typo), while the words as typed find less than a page (20
products; selectors.SEARCH_TYPOS_BELOW). Results are ranked: the exact name, then names starting
with the text, then names containing every word, then products found through brand or category,
then the typo matches; ties by id.

On PostgreSQL every condition is served by one GIN trigram index (pg_trgm) over a key column the
migration products/0007 adds: `products.search_key`, generated from name and brand by the SQL
function `products_search_key`, which decomposes Hangul syllables into their letters (jamo, NFD) and
ends each syllable with a marker (U+119E). A one-syllable word such as 폰 becomes three characters
(ᄑ ᅩ ᆫ ᆞ: enough for a trigram), and a syllable can never be taken for the start of a longer one
(포 is ᄑ ᅩ ᆞ, not a prefix of 폰). `search_key` here computes the same key in Python for the words.
Words of one or two characters other than Hangul ("lg", "tv") are matched at the start of a word,
which the index also serves. A typo is found through the word's other letters (a LIKE pattern per
position, served by the index) and confirmed by LIKE patterns with `_` for the wrong letter (a
syllable is 2 or 3 jamo and its marker).

A search of one Hangul syllable alone in the list of every product for sale is served by another
index: the syllables of each product's name and brand with its rank there (ProductSearchSyllable,
kept by triggers of the migration products/0010), a B-tree that hands out the page in rank order and
counts the matches without a visit of any (폰 finds thousands of products in 100,000, each of which
the trigram index would recheck in the table). Any other search of one word in that list is served
by a third: each suffix of each word of the name and brand (이어폰: 이어폰, 어폰, 폰), with up to two
letters before it in its word and its rank (ProductSearchSuffix, kept by triggers of the migration
products/0011). The word is the B-tree range of the suffixes it starts, read off the index alone
(1,434 products for 이어폰, none of them visited but the page's); its typos are ranges too: with the
first letter wrong, the rest of the word after some letter; the second, the rest after the first
and some letter; a later one, the letters before it. A typo there is any letter in the wrong one's
place (as on SQLite), where the trigram patterns of a search of several words take a syllable for a
syllable and leave out the positions whose other letters hold no trigram (a 3-letter Latin word).
SQLite has no such index: the same conditions on the raw columns (icontains; a regular expression for
short words and typos). The ranking is the same on both.

Why not pg_trgm's similarity operators (measured on 100,000 products, see README): with syllables as
the letters of a trigram, one wrong syllable in the middle of a 3-syllable word leaves 1 trigram of 4
(word similarity 0.25, under any useful threshold); with jamo, `<%` at a threshold of 0.45-0.5 took
50-90 ms and found 3,300 products without the word for 블루트스, jamo trigrams being few and common;
and ordering the typos by word_similarity cost 26 us a row (60 ms for 2,276 rows).
"""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext

MAX_LENGTH = 100
MAX_WORDS = 10
# A word of this many letters (syllables) may be found with one of them wrong; a longer one is not
# a word anybody mistypes, and each letter adds a pattern to the query.
TYPO_MIN_LETTERS, TYPO_MAX_LETTERS = 3, 20

_WORD = re.compile(r"[^\W_]+")
_SYLLABLE = re.compile("[\uac00-\ud7a3]")
# What products_search_key (the SQL function) does after NFD: a marker after each syllable's vowel
# and final consonant, if any.
_SYLLABLE_END = re.compile("([\u1161-\u1175][\u11a8-\u11c2]?)")
SYLLABLE_MARK = "\u119e"


class SearchRejected(ValueError):
    """The text cannot be searched for; `code` says why (the API answers 400 naming the field)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ProductSearch:
    """A parsed search: the words, lower-cased, in the order typed."""

    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


def search_parse(text: str) -> ProductSearch | None:
    """The words of a search text; None when it is blank (no search). Raises SearchRejected for a text
    longer than MAX_LENGTH, with a NUL, without a letter or digit, of one character that is not a
    Hangul syllable (too short to mean anything), or of more than MAX_WORDS words."""
    if "\x00" in text:
        raise SearchRejected(gettext("Null characters are not allowed."), "null_characters_not_allowed")
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_LENGTH:
        raise SearchRejected(gettext("Search for at most %(max)d characters.") % {"max": MAX_LENGTH}, "search_too_long")
    # NFC: a Hangul syllable is one letter however it was typed (the suffix index holds NFC words).
    words = tuple(_WORD.findall(unicodedata.normalize("NFC", text).lower()))
    if not words:
        raise SearchRejected(gettext("Search for a word: letters or digits."), "search_no_words")
    if len(words) > MAX_WORDS:
        raise SearchRejected(gettext("Search for at most %(max)d words.") % {"max": MAX_WORDS}, "search_too_many_words")
    if len(words) == 1 and len(words[0]) == 1 and not is_syllable(words[0]):
        raise SearchRejected(gettext("Search for at least 2 characters, or one Hangul syllable."), "search_too_short")
    return ProductSearch(words=words)


def is_syllable(char: str) -> bool:
    return bool(_SYLLABLE.fullmatch(char))


def search_key(text: str) -> str:
    """The key of a text, as the SQL function products_search_key makes it (for words: letters and
    digits only, so the function's punctuation-to-space step does not apply)."""
    return _SYLLABLE_END.sub(r"\1" + SYLLABLE_MARK, unicodedata.normalize("NFD", text.lower()))


def is_short(word: str) -> bool:
    """A word too short for a trigram of its own (one or two characters, no Hangul syllable): it is
    matched at the start of a word of the name or brand."""
    return len(search_key(word)) < 3


def key_pattern(word: str) -> str:
    """The LIKE pattern of a word against `search_key` (which starts with a space, and has a space
    between words): anywhere, or at the start of a word for a short one."""
    key = search_key(word)
    return f"% {key}%" if is_short(word) else f"%{key}%"


def may_be_mistyped(word: str) -> bool:
    """Whether the word is looked for with one letter wrong too: TYPO_MIN_LETTERS to TYPO_MAX_LETTERS."""
    return TYPO_MIN_LETTERS <= len(word) <= TYPO_MAX_LETTERS


@dataclass(frozen=True)
class Typo:
    """The word with its letter at one position wrong, against `search_key`: `candidates`, the LIKE
    pattern of its other letters around the wrong one (which the index serves), and `exact`, the LIKE
    patterns that check exactly one letter is different there (a syllable is 2 or 3 jamo and its
    marker; any other letter one character)."""

    candidates: str
    exact: tuple[str, ...]


def typos(word: str) -> list[Typo]:
    """One Typo per letter of a word of TYPO_MIN_LETTERS to TYPO_MAX_LETTERS, leaving out the positions whose
    remaining pieces are too short for the index (each pattern needs a trigram)."""
    if not may_be_mistyped(word):
        return []
    found = []
    for position, letter in enumerate(word):
        before, after = search_key(word[:position]), search_key(word[position + 1 :])
        if max(len(before), len(after)) < 3:
            continue
        candidates = "%" + "%".join(piece for piece in (before, after) if piece) + "%"
        wrong = ("__" + SYLLABLE_MARK, "___" + SYLLABLE_MARK) if is_syllable(letter) else ("_",)
        found.append(Typo(candidates=candidates, exact=tuple(f"%{before}{any_letter}{after}%" for any_letter in wrong)))
    return found


def raw_typo_patterns(word: str) -> list[str]:
    """The same typos for a raw column (SQLite): the word with one letter replaced by any character."""
    if not may_be_mistyped(word):
        return []
    return [re.escape(word[:position]) + "." + re.escape(word[position + 1 :]) for position in range(len(word))]
