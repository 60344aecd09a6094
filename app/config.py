"""Settings, from PROPDESK_* environment variables or a .env file."""
import logging
import os
import secrets
from decimal import Decimal
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
    # Signs what the office hands out (owner confirmation codes). Empty: generated once into
    # data_dir/secret.key; read it only through signing_secret.
    secret: str = ""
    default_time_zone: str = "Asia/Shanghai"
    token_lifetime_minutes: int = 12 * 60
    idempotency_retention_hours: int = 48
    # A refund of a prepaid account's balance above this many yuan waits for a second person's
    # approval (refunds:approve); at or below it the desk pays it back at once.
    refund_approval_above: Decimal = Field(default=Decimal("500.00"), ge=0, max_digits=12, decimal_places=2)
    # Sign-in throttling (app/domain/auth/throttle.py): failures per username, and per username
    # from one address, in a window; per address across usernames; a known place's lifetime.
    login_max_failures: int = 5
    login_throttle_minutes: int = 15
    login_ip_max_failures: int = 50
    login_known_place_days: int = 30
    # argon2 runs on this many threads of its own, off the event loop (a fifth of a second each).
    password_hash_threads: int = 2
    # The database pool; a request waits this long for a connection, then gets a 503.
    db_pool_size: int = 10
    db_pool_timeout_seconds: float = 30.0
    # Addresses (comma-separated, or *) whose X-Forwarded-For / X-Forwarded-Proto are believed: the
    # reverse proxy in front. Empty: none, the client address is the connection's peer.
    trusted_proxies: str = ""
    # Webhooks reach public addresses only, plus these networks (comma-separated CIDRs, e.g. an
    # integration on the office LAN): a webhook URL must not make the server call its own services.
    webhook_allowed_networks: str = ""
    # The owner's one-time code for a voucher: the desk issues it when confirming the appointment,
    # which may be a couple of days ahead, so three days; wrong codes per order before it locks.
    owner_code_valid_hours: int = Field(default=72, ge=1, le=24 * 30)
    owner_code_max_attempts: int = Field(default=5, ge=1, le=20)
    max_upload_bytes: int = 10 * 1024 * 1024  # one file
    # A whole request: a voucher carries a signature and up to 10 photos.
    max_request_bytes: int = 11 * 10 * 1024 * 1024 + 64 * 1024
    # Requests per minute, counted in PostgreSQL so that every worker shares them; 0 turns one off.
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
    # JSON lines, or readable lines; unset: readable on a terminal, JSON otherwise.
    log_json: bool | None = None
    # Nightly backups (job nightly_backup): where the archives go (empty: data_dir/backups), how many stay.
    backup_dir: Path | None = None
    backup_keep: int = 7
    # Open streams each hold a connection and poll the database: a cap per user (or API key)
    # and per process; beyond it 429 with Retry-After. 0 or less: no cap.
    stream_max_per_user: int = 5
    stream_max_per_process: int = 500
    # Waivers (减免) of more than this many yuan are approved by finance only; a supervisor approves the rest.
    waiver_finance_above: Decimal = Field(default=Decimal("500.00"), ge=0)
    # An edit (PATCH/PUT) without If-Match is refused with 428: every client must say which
    # version (ETag) it read, so no desk overwrites another's change unseen.
    require_if_match: bool = False

    # Money channels (app/domain/fees/channels). The office's public https address, which the
    # channel's notifications are posted to (/api/v1/payment-channels/wechat/notify/{estate_id}
    # under it); empty: no channel order can be made. WeChat Pay's API address (tests point it
    # at their fake server). A bill's QR code is valid this long; a notification's timestamp
    # may be this far from our clock.
    channel_notify_base_url: str = ""
    wechatpay_gateway: str = "https://api.mch.weixin.qq.com"
    # Alipay's gateway (tests: their fake); its notifications come to .../payment-channels/alipay/notify/{estate_id}.
    alipay_gateway: str = "https://openapi.alipay.com/gateway.do"
    channel_qr_valid_minutes: int = Field(default=120, ge=5, le=24 * 60)
    channel_notify_tolerance_seconds: int = Field(default=300, ge=30, le=3600)
    # A payment code the owner is still confirming (USERPAYING) is asked after about
    # `first_poll` seconds, then at doubling intervals, for `wait` seconds in all while the desk
    # waits; undecided then, it is reversed. The poll job asks about orders older than `poll_after`.
    channel_code_wait_seconds: float = Field(default=30.0, gt=0, le=120)
    channel_code_first_poll_seconds: float = Field(default=2.0, gt=0, le=30)
    channel_poll_after_seconds: int = Field(default=60, ge=0, le=3600)

    # Browser clients: the origins (https://desk.example.com) allowed to call the API, comma
    # separated. None by default: a browser app on another origin is refused until listed.
    cors_origins: str = ""
    # Responses larger than this are gzipped for clients that accept it (lists, exports, openapi.json).
    gzip_minimum_bytes: int = Field(default=1024, ge=0)

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [a.strip() for a in self.trusted_proxies.split(",") if a.strip()]

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def secret_file(self) -> Path:
        return self.data_dir / SECRET_FILE

    @property
    def signing_secret(self) -> str:
        """The secret everything that signs uses: PROPDESK_SECRET, or the data directory's own."""
        return self.secret or _stored_secret(self.secret_file.resolve())[0]


# The value older releases and copied .env files carry: public, so never a real secret.
KNOWN_DEFAULT_SECRET = "change-me-in-production"
SECRET_FILE = "secret.key"
log = logging.getLogger("propdesk.config")


class InsecureSecret(Exception):
    """PROPDESK_SECRET is the published example value."""


@lru_cache
def _stored_secret(path: Path) -> tuple[str, bool]:
    """The secret in `path`, made there first if missing (mode 0600); True when made now."""
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per call, not per process: threads of one process may start at once too.
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secrets.token_urlsafe(48) + "\n").encode())
    finally:
        os.close(fd)
    try:
        # A hard link appears whole or not at all: two processes starting at once agree on one secret.
        os.link(draft, path)
        made = True
    except FileExistsError:
        made = False
    finally:
        draft.unlink()
    return path.read_text().strip(), made


def ensure_secret(settings: Settings, *, demo: bool = False) -> None:
    """Before serving: refuse the published default, or make sure the generated secret exists."""
    if settings.secret == KNOWN_DEFAULT_SECRET and not demo:
        raise InsecureSecret(
            f"PROPDESK_SECRET is the published example {KNOWN_DEFAULT_SECRET!r}; unset it (a secret is then "
            f"generated into {settings.secret_file}) or set a long random value")
    if settings.secret:
        return
    _, made = _stored_secret(settings.secret_file.resolve())
    if made:
        log.warning("generated a signing secret in %s (mode 0600); keep it with the data directory's backups",
                    settings.secret_file)


@lru_cache
def get_settings() -> Settings:
    return Settings()
