"""Which database the suite runs on: a fresh SQLite file, or PostgreSQL from
TEST_DATABASE_URL."""

import os
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="giamngheo-tests-"))
DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{_TMP / 'test.db'}"
IS_POSTGRES = DATABASE_URL.startswith("postgresql")
