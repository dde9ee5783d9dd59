"""Personal identification number checks (pure).

12 digits: 3-digit birth-registration province, 1 century/sex digit, 2 digits of the birth
year, 6 random digits. The century/sex coding is not confirmed (DOMAIN.md marks it U), so a
disagreement is a warning, never a rejection: legacy data is dirty.
"""

from datetime import date

from api.domain.households.member_models import Sex

# century/sex digit -> (first year of the century, sex)
_CENTURY_SEX = {
    0: (1900, Sex.MALE),
    1: (1900, Sex.FEMALE),
    2: (2000, Sex.MALE),
    3: (2000, Sex.FEMALE),
    4: (2100, Sex.MALE),
    5: (2100, Sex.FEMALE),
    6: (2200, Sex.MALE),
    7: (2200, Sex.FEMALE),
    8: (1800, Sex.MALE),
    9: (1800, Sex.FEMALE),
}


def personal_id_warnings(personal_id: str | None, date_of_birth: date, sex: Sex) -> list[str]:
    if personal_id is None or len(personal_id) != 12:
        return []
    warnings: list[str] = []
    century, coded_sex = _CENTURY_SEX[int(personal_id[3])]
    coded_year = century + int(personal_id[4:6])
    if coded_year != date_of_birth.year:
        warnings.append(
            f"personal_id encodes birth year {coded_year}, date_of_birth says {date_of_birth.year}"
        )
    if coded_sex != sex:
        warnings.append(f"personal_id encodes sex {coded_sex.value}, record says {sex.value}")
    if personal_id[:3] == "000":
        warnings.append("personal_id has province code 000, which is not assigned")
    return warnings
