"""the estate's choice of simplified or traditional characters

Revision ID: eaa29a3e1ab7
Revises: 4f0c2a9e7b13
Create Date: 2026-12-03 18:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = 'eaa29a3e1ab7'
down_revision: str | Sequence[str] | None = '4f0c2a9e7b13'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing estates get the default, simplified; the office switches in the estate settings.
    op.add_column('estate', sa.Column('script', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False,
                                      server_default='simplified'))
    op.alter_column('estate', 'script', server_default=None)
    op.create_check_constraint(op.f('ck_estate_script_known'), 'estate', "script IN ('simplified', 'traditional')")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_estate_script_known'), 'estate', type_='check')
    op.drop_column('estate', 'script')
