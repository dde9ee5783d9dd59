from sqlalchemy import ColumnElement
from sqlmodel import col

from api.domain.members.models import Member
from api.domain.text import folded_key, has_diacritics, like_pattern, lower_key


def member_matches(q: str) -> ColumnElement[bool]:
    """Digits match a personal ID exactly; a name with diacritics matches them exactly,
    a name typed without them matches any accented form."""
    text = q.strip()
    if text.isdigit():
        return col(Member.personal_id) == text
    if has_diacritics(text):
        return col(Member.name_lower).like(like_pattern(lower_key(text)), escape="\\")
    return col(Member.name_folded).like(like_pattern(folded_key(text)), escape="\\")
