"""company details for receipts, closed estates

Revision ID: 5e2d8c41a9f7
Revises: 49809337b1c0
Create Date: 2026-12-03 12:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '5e2d8c41a9f7'
down_revision: str | Sequence[str] | None = '49809337b1c0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: companies made before these details were kept have none until an admin adds them.
    op.add_column('company', sa.Column('legal_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.add_column('company', sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.add_column('company', sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
    op.add_column('company', sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True))
    op.create_unique_constraint('uq_company_credit_code', 'company', ['credit_code'])
    op.add_column('estate', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('estate', sa.Column('closed_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column('estate', 'closed_reason')
    op.drop_column('estate', 'closed_at')
    op.drop_constraint('uq_company_credit_code', 'company', type_='unique')
    op.drop_column('company', 'credit_code')
    op.drop_column('company', 'phone')
    op.drop_column('company', 'address')
    op.drop_column('company', 'legal_name')
