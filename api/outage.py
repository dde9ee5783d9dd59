"""Requests refused while the database is away: one log line per condition, not one stack
trace per request."""

import logging
import time
from dataclasses import dataclass, field

log = logging.getLogger("api")
RETRY_AFTER_S = 5
# A condition is logged again, with the number of requests refused meanwhile, after this long.
REPEAT_S = 60.0


@dataclass
class OutageLog:
    _since: dict[str, tuple[float, int]] = field(default_factory=dict)

    def refused(self, condition: str) -> None:
        now = time.monotonic()
        first, count = self._since.get(condition, (0.0, 0))
        if count and now - first < REPEAT_S:
            self._since[condition] = (first, count + 1)
            return
        if count:
            log.warning("database unavailable: %s (%d requests refused)", condition, count)
        else:
            log.warning("database unavailable: %s; answering 503", condition)
        self._since[condition] = (now, 1)


outages = OutageLog()
