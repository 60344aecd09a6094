"""work order newest-first index

Revision ID: 3c1e9a7f5b20
Revises: 7d8af6b270a1
Create Date: 2026-11-29 10:05:00.000000
"""
from collections.abc import Sequence

from alembic import op


revision: str = '3c1e9a7f5b20'
down_revision: str | Sequence[str] | None = '7d8af6b270a1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_work_order_estate_created', 'work_order', ['estate_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_work_order_estate_created', table_name='work_order')
