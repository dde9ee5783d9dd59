"""What the operator sets (from the environment, through `api.config.Settings`) that the use
cases obey: limits, windows, thresholds."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Policy:
    idempotency_ttl: timedelta = timedelta(hours=24)
    key_secret: str = ""
    newly_escaped_years: int = 3
    personal_id_checks_per_hour: int = 2000
    report_small_cells_below: int = 5
    page_size_max: int = 200
