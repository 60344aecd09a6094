"""the reply promise's state as a column

Revision ID: be77d86de0b2
Revises: 5e2d8c41a9f7
Create Date: 2026-12-03 15:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'be77d86de0b2'
down_revision: str | Sequence[str] | None = '5e2d8c41a9f7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The promise's life was read from its timestamps; it is a state of its own transition table now.
    op.add_column('reply_promise', sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                             server_default='open'))
    op.execute("UPDATE reply_promise SET status = CASE"
               " WHEN closed_at IS NOT NULL AND owner_told_at IS NOT NULL THEN 'told'"
               " WHEN closed_at IS NOT NULL THEN 'withdrawn'"
               " WHEN confirmed_start IS NOT NULL THEN 'confirmed' ELSE 'open' END")
    op.alter_column('reply_promise', 'status', server_default=None)


def downgrade() -> None:
    op.drop_column('reply_promise', 'status')
