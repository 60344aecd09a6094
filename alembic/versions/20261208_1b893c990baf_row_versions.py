"""row versions: every edited table counts its UPDATEs, in the database, for ETag / If-Match

Revision ID: 1b893c990baf
Revises: 8c41d9c85a03
Create Date: 2026-12-08 00:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '1b893c990baf'
down_revision: str | Sequence[str] | None = '8c41d9c85a03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables a PATCH or PUT edits (app/domain/versions.py: Versioned).
TABLES = (
    'building', 'channel_credential', 'company', 'estate', 'fee_item', 'jurisdiction', 'notification_template', 'owner',
    'rental_entrustment', 'repair_category', 'script_template', 'stock_item', 'stocktake', 'technician_hours', 'unit',
    'unit_billing_period', 'unit_fee_item', 'user', 'webhook_endpoint',
)

# Written out here rather than imported: a migration keeps the SQL of its day.
BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION bump_version() RETURNS trigger AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""


def _bump(table: str) -> None:
    op.execute(f'CREATE TRIGGER "{table}_bump_version" BEFORE UPDATE ON "{table}" FOR EACH ROW EXECUTE FUNCTION bump_version()')


def upgrade() -> None:
    op.execute(BUMP_FUNCTION)
    for table in TABLES:
        # Existing rows start at 1, as new ones do.
        op.add_column(table, sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))
        _bump(table)
    # The version of a record kept in several rows (complaint deadlines, a day's duty roster, a holiday year).
    op.create_table(
        'edit_version',
        sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('touched_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_edit_version')),
    )
    _bump('edit_version')


def downgrade() -> None:
    op.drop_table('edit_version')
    for table in TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_bump_version" ON "{table}"')
        op.drop_column(table, 'version')
    op.execute('DROP FUNCTION IF EXISTS bump_version()')
