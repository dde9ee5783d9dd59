"""Numbers and days as Vietnamese officers read them: 1.012 hộ; 2,50 %; 31/12/2023."""

from datetime import date

from babel.numbers import format_decimal


def vi_number(value: float, decimals: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, format=pattern, locale="vi_VN"))


def vi_percent(value: float) -> str:
    return f"{vi_number(value, 2)} %"


def vi_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")
