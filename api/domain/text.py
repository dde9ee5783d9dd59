"""Search keys for Vietnamese names: exact (lower-cased) and folded (no diacritics, đ -> d)."""

import re
import unicodedata

from unidecode import unidecode

_SPACES = re.compile(r"\s+")
# The width of the columns that hold a name's keys. A key can be longer than its name: "İ"
# lower-cases to two characters and "北" folds to "bei ".
KEY_CHARS = 120


def lower_key(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).strip().lower())


def folded_key(text: str) -> str:
    return _SPACES.sub(" ", unidecode(unicodedata.normalize("NFC", text)).strip().lower())


def has_diacritics(text: str) -> bool:
    return lower_key(text) != folded_key(text)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def keys_fit(text: str) -> bool:
    return len(lower_key(text)) <= KEY_CHARS and len(folded_key(text)) <= KEY_CHARS
