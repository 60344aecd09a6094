from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.config import Settings
from app.db import with_database
from app.demo import DemoLogins, load_demo
from app.main import create_app
from tests import db
from tests.factories import TEST_SECRET
from tests.upgrade_demo import upgraded_demo_template

# Moved out of the test modules, the shared builders keep pytest's detailed assertion messages.
pytest.register_assert_rewrite("tests.helpers")


@pytest.fixture(scope="session")
def pg_server() -> str:
    return db.server_url()


@pytest.fixture(scope="session")
def app_server(pg_server: str) -> Iterator[str]:
    """The server as the app reaches it: directly, or with PROPDESK_TEST_POOLER=pgbouncer through a
    real PgBouncer in transaction pooling mode (tests/deploy/test_pgbouncer.py runs suites so)."""
    if os.environ.get("PROPDESK_TEST_POOLER") != "pgbouncer":
        yield pg_server
        return
    from tests.helpers import pgbouncer  # here: imported at the top it would escape assertion rewriting

    with pgbouncer.running(pg_server, Path(tempfile.mkdtemp(prefix="pgbouncer-"))) as port:
        yield pgbouncer.through(pg_server, port)


@pytest.fixture(scope="session")
async def template_db(pg_server: str) -> AsyncIterator[str]:
    await db.make_disposable(pg_server)
    name = await db.create_template(pg_server)
    yield name
    if name in _demo_templates:
        await db.drop(pg_server, _demo_templates.pop(name)[0])
    await db.drop(pg_server, name)


@pytest.fixture(scope="session")
async def worker_db(pg_server: str, template_db: str) -> AsyncIterator[str]:
    """This test worker's database, emptied before each test."""
    name = await db.clone(pg_server, template_db)
    yield name
    await db.drop(pg_server, name)


_demo_templates: dict[str, tuple[str, DemoLogins]] = {}


async def _demo_template(pg_server: str, template_db: str) -> tuple[str, DemoLogins]:
    """The demo company, loaded once per test worker (about 15 s) and copied for each `demo` test."""
    if template_db not in _demo_templates:
        name = await db.clone(pg_server, template_db)
        engine = create_async_engine(with_database(pg_server, name))
        async with AsyncSession(engine, expire_on_commit=False) as s:
            logins = await load_demo(s)
            await s.commit()
        await engine.dispose()
        _demo_templates[template_db] = (name, logins)
    return _demo_templates[template_db]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # The demo's own tests run twice: on the demo loaded now, and on the demo an old release
    # loaded and today's migrations upgraded (tests/upgrade_demo.py).
    # A test of what only today's loader makes (rows an old release never wrote) is marked demo_loaded_only.
    if (metafunc.definition.get_closest_marker("demo") and not metafunc.definition.get_closest_marker("demo_loaded_only")
            and metafunc.module.__name__.split(".")[-1].startswith("test_demo")):
        metafunc.fixturenames.append("demo_source")
        metafunc.parametrize("demo_source", ["loaded", "upgraded"])


@pytest.fixture
def demo_source() -> str:
    return "loaded"


async def _demo_of(request: pytest.FixtureRequest, pg_server: str, template_db: str) -> tuple[str, DemoLogins]:
    if request.node.get_closest_marker("demo") and request.getfixturevalue("demo_source") == "upgraded":
        return await upgraded_demo_template(pg_server)
    return await _demo_template(pg_server, template_db)


@pytest.fixture
async def demo_template(request: pytest.FixtureRequest, pg_server: str, template_db: str) -> tuple[str, DemoLogins]:
    return await _demo_of(request, pg_server, template_db)


@pytest.fixture
async def demo_logins(request: pytest.FixtureRequest, demo_template: tuple[str, DemoLogins]) -> DemoLogins:
    """What load_demo returned for the database of a test marked `demo`."""
    assert request.node.get_closest_marker("demo"), "mark the test with @pytest.mark.demo"
    return demo_template[1]


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, pg_server: str, app_server: str, template_db: str,
                       worker_db: str) -> AsyncIterator[str]:
    """An empty database for this test: the worker's, wiped; or a fresh copy of the template when
    the test is marked `fresh_database` or the server will not let us wipe; or a copy of the
    demo company when it is marked `demo`."""
    if request.node.get_closest_marker("demo") is not None:
        template, _ = await _demo_of(request, pg_server, template_db)
        name = await db.clone(pg_server, template)
        yield with_database(app_server, name)
        await db.drop(pg_server, name)
        return
    if request.node.get_closest_marker("fresh_database") is None and await db.wipe(pg_server, worker_db):
        yield with_database(app_server, worker_db)
        return
    name = await db.clone(pg_server, template_db)
    yield with_database(app_server, name)
    await db.drop(pg_server, name)


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    # Streams end at once here: a test (or schemathesis) reading /stream must not wait minutes.
    # Sweeps of bad input call one report many times a minute: the limiter counts, but higher up
    # (tests/api/test_rate_limit.py tests the real limits).
    # An explicit secret, so tests can compute what is signed; the generated one: tests/test_secret.py.
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret=TEST_SECRET,
        webhook_allowed_networks="127.0.0.0/8",
        scheduler_enabled=False,
        log_json=False,
        stream_max_seconds=0.2,
        stream_poll_seconds=0.05,
        report_rate_per_minute=1000,
    )


_shared_apps: dict[tuple[int, str, int], object] = {}


@pytest.fixture
async def app(settings: Settings):
    """One app per test worker, started per test on this test's database and settings.

    Building the app (every route's models) costs over half a second; the lifespan reads
    app.state.settings, so a started app sees nothing of the previous test.
    """
    # Middleware (body-size cap, CORS, gzip) takes its settings when the app is built: one app per set.
    key = (settings.max_request_bytes, settings.cors_origins, settings.gzip_minimum_bytes)
    application = _shared_apps.get(key)
    if application is None:
        application = _shared_apps[key] = create_app(settings)
    application.state.settings = settings
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def session(app) -> AsyncIterator[AsyncSession]:
    """A session for arranging data; factories flush, and commit() makes it visible to the app."""
    async with app.state.sessionmaker() as s:
        yield s
