"""Pure rules, as tables of cases."""

from datetime import date

import pytest

from api.domain.households.member_models import Sex
from api.domain.households.rules import personal_id_warnings
from api.domain.text import folded_key, has_diacritics, like_pattern, lower_key


@pytest.mark.parametrize(
    ("personal_id", "born", "sex", "expected"),
    [
        ("035080123456", date(1980, 5, 1), Sex.MALE, []),
        ("035180123456", date(1980, 5, 1), Sex.FEMALE, []),
        ("035205123456", date(2005, 5, 1), Sex.MALE, []),
        ("035305123456", date(2005, 5, 1), Sex.FEMALE, []),
        (
            "035081123456",
            date(1980, 5, 1),
            Sex.MALE,
            ["personal_id encodes birth year 1981, date_of_birth says 1980"],
        ),
        (
            "035180123456",
            date(1980, 5, 1),
            Sex.MALE,
            ["personal_id encodes sex female, record says male"],
        ),
        (
            "035280123456",
            date(1980, 5, 1),
            Sex.MALE,
            ["personal_id encodes birth year 2080, date_of_birth says 1980"],
        ),
        (
            "000080123456",
            date(1980, 5, 1),
            Sex.MALE,
            ["personal_id has province code 000, which is not assigned"],
        ),
        ("123456789", date(1950, 1, 1), Sex.FEMALE, []),
        (None, date(1950, 1, 1), Sex.FEMALE, []),
    ],
)
def test_personal_id_warnings(
    personal_id: str | None, born: date, sex: Sex, expected: list[str]
) -> None:
    assert personal_id_warnings(personal_id, born, sex) == expected


@pytest.mark.parametrize(
    ("text", "lower", "folded", "accented"),
    [
        ("Nguyễn Văn Đức", "nguyễn văn đức", "nguyen van duc", True),
        ("  ĐẶNG   THỊ  Hường ", "đặng thị hường", "dang thi huong", True),
        ("Tran Van An", "tran van an", "tran van an", False),
        # Decomposed input (combining marks) is normalised first.
        ("Nguye\u0302\u0303n", "nguyễn", "nguyen", True),
    ],
)
def test_search_keys(text: str, lower: str, folded: str, accented: bool) -> None:
    assert lower_key(text) == lower
    assert folded_key(text) == folded
    assert has_diacritics(text) is accented


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
