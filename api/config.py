from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_KEY_SECRET = "development-only-key-secret"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./giamngheo.db"
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_echo: bool = False
    # Lowers the cap on list pages; the contract publishes 200, so it cannot go higher.
    page_size_max: int = Field(default=200, ge=1, le=200)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    jobs_in_process: bool = Field(
        default=False, description="Run queued jobs in the server (`serve` on SQLite does)"
    )
    newly_escaped_years: int = Field(
        default=3, ge=1, le=10, description="Window for 'newly escaped' (Social Policy Bank: 3)"
    )
    graphql_ide: bool = True
    report_small_cells_below: int = Field(
        default=5,
        ge=1,
        description="Village counts from 1 to this minus 1 are suppressed in review reports for "
        "readers other than the commune's staff (1: none)",
    )
    # A reviewer's phone checks a few hundred IDs after a week offline; a search for whose ID
    # is whose needs thousands.
    personal_id_checks_per_hour: int = Field(
        default=2000, ge=1, description="Duplicate personal-ID checks per user and hour"
    )

    environment: str = Field(default="development", pattern="^(development|test|production)$")
    # Encrypts the token signing keys at rest. The development default is refused in production.
    key_secret: SecretStr = SecretStr(DEV_KEY_SECRET)
    token_issuer: str = "giamngheo-api"  # noqa: S105 - a name, not a secret
    token_audience: str = "giamngheo"  # noqa: S105 - a name, not a secret
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=30, ge=1, le=90)
    session_max_days: int = Field(default=90, ge=1, le=365)
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    login_slowdown_after: int = Field(default=3, ge=1)
    # Proxies whose X-Forwarded-For names the client (comma-separated addresses or networks,
    # as uvicorn's forwarded_allow_ips takes them). None by default: the per-address sign-in
    # limit counts the connecting address, which a client cannot choose.
    trusted_proxies: str = ""

    @model_validator(mode="after")
    def _guard_secrets(self) -> "Settings":
        if self.environment == "production" and (
            self.key_secret.get_secret_value() == DEV_KEY_SECRET
        ):
            raise ValueError("KEY_SECRET must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
