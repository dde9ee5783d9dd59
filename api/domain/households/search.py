from sqlalchemy import ColumnElement, false
from sqlmodel import col

from api.domain.households.member_models import Member
from api.domain.text import folded_key, has_diacritics, like_pattern, lower_key


def member_matches(q: str, by_personal_id: bool = True) -> ColumnElement[bool]:
    """Digits match a personal ID exactly; a name with diacritics matches them exactly,
    a name typed without them matches any accented form. Whoever may not see personal IDs
    may not search by them either: the search would reveal them."""
    text = q.strip()
    if text.isdigit():
        return col(Member.personal_id) == text if by_personal_id else false()
    if has_diacritics(text):
        return col(Member.name_lower).like(like_pattern(lower_key(text)), escape="\\")
    return col(Member.name_folded).like(like_pattern(folded_key(text)), escape="\\")
