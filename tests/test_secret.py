"""The signing secret: PROPDESK_SECRET, else one generated into the data directory once; never the published example."""
from __future__ import annotations

import logging
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.config import KNOWN_DEFAULT_SECRET, InsecureSecret, Settings, _stored_secret, ensure_secret
from tests.db import ROOT


def _settings(tmp_path, **kw) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url="postgresql://unused", **kw)


def test_generated_once_mode_0600_and_kept(tmp_path, caplog):
    settings = _settings(tmp_path, secret="")
    with caplog.at_level(logging.WARNING, logger="propdesk.config"):
        ensure_secret(settings)
    path = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    secret = path.read_text().strip()
    assert len(secret) >= 40 and settings.signing_secret == secret
    assert [r.message for r in caplog.records if "generated a signing secret" in r.message]
    # A second start (a new process: nothing cached) finds it and says nothing.
    _stored_secret.cache_clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="propdesk.config"):
        ensure_secret(_settings(tmp_path, secret=""))
    assert not caplog.records
    assert _settings(tmp_path, secret="").signing_secret == secret


def test_two_starts_at_once_agree(tmp_path):
    path = (tmp_path / "secret.key").resolve()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _stored_secret.__wrapped__(path), range(8)))
    assert len({secret for secret, _ in results}) == 1
    assert sum(made for _, made in results) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]  # no drafts left behind


def test_explicit_secret_is_used_and_nothing_written(tmp_path):
    settings = _settings(tmp_path, secret="s" * 48)
    ensure_secret(settings)
    assert settings.signing_secret == "s" * 48
    assert not (tmp_path / "data").exists()


def test_published_default_refused_unless_demo(tmp_path):
    settings = _settings(tmp_path, secret=KNOWN_DEFAULT_SECRET)
    with pytest.raises(InsecureSecret, match="published example"):
        ensure_secret(settings)
    ensure_secret(settings, demo=True)
    assert settings.signing_secret == KNOWN_DEFAULT_SECRET
    assert not (tmp_path / "data").exists()


def test_the_default_is_empty():
    assert Settings.model_fields["secret"].default == ""


def test_only_signing_secret_reads_the_secret():
    """Everything that signs goes through Settings.signing_secret, never the raw setting."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "app").rglob("*.py")
                 if p.name != "config.py" and re.search(r"settings\.secret\b", p.read_text())]
    assert not offenders


def test_deployment_files_carry_no_secret():
    import yaml

    assert "PROPDESK_SECRET" not in (ROOT / "Dockerfile").read_text()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    given = {name: service.get("environment", {}).get("PROPDESK_SECRET") for name, service in compose["services"].items()}
    # Passed through from the operator's environment, with no default value: required (:?) or empty.
    assert all(v is None or re.fullmatch(r"\$\{PROPDESK_SECRET(:\?[^}]*|:-)?\}", v) for v in given.values()), given
    assert KNOWN_DEFAULT_SECRET not in (ROOT / "docker-compose.yml").read_text()
