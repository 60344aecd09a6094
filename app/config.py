"""Settings, from PROPDESK_* environment variables or a .env file."""
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROPDESK_", env_file=".env", extra="ignore")

    # Empty means: start the embedded PostgreSQL in data_dir.
    database_url: str = Field(
        default="", validation_alias=AliasChoices("PROPDESK_DATABASE_URL", "DATABASE_URL")
    )
    data_dir: Path = Path("./data")
    secret: str = "change-me-in-production"
    default_time_zone: str = "Asia/Shanghai"
    token_lifetime_minutes: int = 12 * 60
    idempotency_retention_hours: int = 48
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    max_upload_bytes: int = 10 * 1024 * 1024  # one file
    # A whole request: a voucher carries a signature and up to 10 photos.
    max_request_bytes: int = 11 * 10 * 1024 * 1024 + 64 * 1024
    # Requests per minute, counted in PostgreSQL so that every worker shares them; 0 turns one off.
    login_rate_per_minute: int = 10  # sign-in attempts per username, before the password is hashed
    login_ip_rate_per_minute: int = 60  # sign-in attempts per client address (an office shares one)
    report_rate_per_minute: int = 30  # expensive reports and exports, per signed-in user or API key
    scheduler_enabled: bool = True
    # How long an idle dispatcher waits before it looks for due webhooks and notifications again.
    dispatch_interval_seconds: float = Field(default=2.0, gt=0)
    # Owner notifications: "log" keeps them on this machine; "webhook" posts them, signed, to an
    # SMS / WeChat bridge at notify_webhook_url.
    notify_gateway: Literal["log", "webhook"] = "log"
    notify_webhook_url: str = ""
    notify_webhook_secret: str = ""
    # A server-sent event stream ends after this long; clients reconnect with Last-Event-ID.
    stream_max_seconds: float = 300.0
    stream_poll_seconds: float = 1.0
    log_json: bool = True

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"


@lru_cache
def get_settings() -> Settings:
    return Settings()
