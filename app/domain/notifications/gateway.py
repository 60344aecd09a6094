"""Where owner notifications go: a log (the embedded default) or an SMS/WeChat provider's webhook.

The provider adapter POSTs `{id, to, text, event_type, estate_id}` signed like our webhooks;
the provider (or a small bridge in front of it) turns it into an SMS or a WeChat template message.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Protocol

import httpx

from app.config import Settings
from app.domain.events import signing
from app.domain.events.dispatcher import TIMEOUT, Outcome
from app.domain.notifications.model import OwnerNotification

log = logging.getLogger("propdesk.notifications")


class Gateway(Protocol):
    name: str

    async def send(self, client: httpx.AsyncClient, notification: OwnerNotification) -> Outcome: ...


class LogGateway:
    """Writes the message to the log: nothing leaves the machine."""

    name = "log"

    async def send(self, client: httpx.AsyncClient, notification: OwnerNotification) -> Outcome:
        log.info("owner notification to %s: %s", notification.phone, notification.text)
        return Outcome(status_code=200, error="", duration_ms=0)


class WebhookGateway:
    name = "webhook"

    def __init__(self, *, url: str, secret: str) -> None:
        self.url, self.secret = url, secret

    async def send(self, client: httpx.AsyncClient, notification: OwnerNotification) -> Outcome:
        body = json.dumps({"id": str(notification.id), "to": notification.phone, "text": notification.text,
                           "event_type": notification.event_type, "estate_id": str(notification.estate_id)},
                          ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   signing.SIGNATURE_HEADER: signing.signature(self.secret, timestamp=int(time.time()), body=body)}
        started = time.perf_counter()
        try:
            response = await client.post(self.url, content=body, headers=headers, timeout=TIMEOUT)
            code, error = response.status_code, "" if response.is_success else response.text[:200]
        except httpx.HTTPError as exc:
            code, error = None, f"{type(exc).__name__}: {exc}"[:500]
        return Outcome(status_code=code, error=error, duration_ms=int((time.perf_counter() - started) * 1000))


def from_settings(settings: Settings) -> Gateway:
    if settings.notify_gateway == "webhook" and settings.notify_webhook_url:
        return WebhookGateway(url=settings.notify_webhook_url, secret=settings.notify_webhook_secret)
    return LogGateway()
