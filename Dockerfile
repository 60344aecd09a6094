# PropDesk. One image for every role: `propdesk serve` (the API), `propdesk scheduler` (job clock
# and dispatcher), `propdesk dispatcher`, `propdesk migrate`.
#
# Python 3.11, the version the test suite runs on. Pinned by tag and by the digest of its
# multi-architecture index; bump both together (`docker buildx imagetools inspect <tag>`).
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROPDESK_DATA_DIR=/data

WORKDIR /opt/propdesk

# The locked dependencies first, in their own layer: a code change does not reinstall them.
# requirements.lock pins every package with its hashes (uv pip compile --universal --generate-hashes,
# see the README); --require-hashes refuses anything else.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY app ./app

# Editable on purpose: app/migrations.py finds alembic.ini and alembic/ next to the app
# package, which a plain `pip install .` into site-packages would leave behind. --no-deps: the
# dependencies are the locked ones above, nothing resolved at build time.
RUN pip install --no-deps --no-build-isolation -e . \
 && python -m compileall -q app \
 && useradd --system --create-home --uid 10001 propdesk \
 && mkdir -p /data \
 && chown propdesk:propdesk /data

USER propdesk
# Uploads, and the embedded PostgreSQL when no DATABASE_URL is given.
VOLUME ["/data"]
EXPOSE 8000

# No curl in the slim image: the standard library asks /readyz (database up, schema at head).
# The scheduler and migrate serve no HTTP: docker-compose.yml turns it off for them.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=4 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=3)"]

CMD ["propdesk", "serve", "--host", "0.0.0.0", "--port", "8000"]
