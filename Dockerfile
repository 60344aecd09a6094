# PropDesk API image. The same image runs the job clock alone (`propdesk scheduler`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROPDESK_DATA_DIR=/data

WORKDIR /opt/propdesk
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY app ./app

# Editable on purpose: app/migrations.py finds alembic.ini and alembic/ next to the app
# package, which a plain `pip install .` into site-packages would leave behind.
RUN pip install -e . \
 && useradd --system --create-home --uid 10001 propdesk \
 && mkdir -p /data \
 && chown propdesk:propdesk /data

USER propdesk
# Uploads, and the embedded PostgreSQL when no DATABASE_URL is given.
VOLUME ["/data"]
EXPOSE 8000

CMD ["propdesk", "serve", "--host", "0.0.0.0", "--port", "8000"]
