"""incoming calls: the desk reads the day's calls from the outbox by a partial index

Revision ID: 5e0c4a1f9b27
Revises: 1b893c990baf
Create Date: 2026-12-08 03:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '5e0c4a1f9b27'
down_revision: str | Sequence[str] | None = '1b893c990baf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The outbox holds every event of every estate; the calls of one estate's day are a few dozen.
    op.create_index('ix_outbox_event_calls', 'outbox_event', ['estate_id', 'occurred_at'], unique=False,
                    postgresql_where=sa.text("type = 'call.incoming'"))


def downgrade() -> None:
    op.drop_index('ix_outbox_event_calls', table_name='outbox_event', postgresql_where=sa.text("type = 'call.incoming'"))
