"""holiday calendar: the company's statutory holidays and adjusted working days by date

Revision ID: 49809337b1c0
Revises: 8ab389204514
Create Date: 2026-12-03 12:28:51.666162
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '49809337b1c0'
down_revision: str | Sequence[str] | None = '8ab389204514'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('holiday_calendar_day',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint("kind = 'holiday' OR extract(isodow FROM day) >= 6", name=op.f('ck_holiday_calendar_day_workday_on_weekend')),
    sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f('ck_holiday_calendar_day_kind_known')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_holiday_calendar_day_company_id_company')),
    sa.ForeignKeyConstraint(['updated_by'], ['user.id'], name=op.f('fk_holiday_calendar_day_updated_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday_calendar_day')),
    sa.UniqueConstraint('company_id', 'day', name=op.f('uq_holiday_calendar_day_company_id_day'))
    )


def downgrade() -> None:
    op.drop_table('holiday_calendar_day')
