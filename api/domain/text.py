"""Search keys for Vietnamese names: exact (lower-cased) and folded (no diacritics, đ -> d)."""

import re
import unicodedata

from unidecode import unidecode

_SPACES = re.compile(r"\s+")


def lower_key(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).strip().lower())


def folded_key(text: str) -> str:
    return _SPACES.sub(" ", unidecode(unicodedata.normalize("NFC", text)).strip().lower())


def has_diacritics(text: str) -> bool:
    return lower_key(text) != folded_key(text)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
