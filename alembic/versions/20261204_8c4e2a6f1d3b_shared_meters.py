"""shared meters (公摊): meters, fixed shares, readings, splits and their lines

Revision ID: 8c4e2a6f1d3b
Revises: 7a1c4e2b9d30
Create Date: 2026-12-04 14:32:57.976238
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '8c4e2a6f1d3b'
down_revision: str | Sequence[str] | None = '7a1c4e2b9d30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('shared_meter',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('building_id', sa.Uuid(), nullable=True),
    sa.Column('fee_item_id', sa.Uuid(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('subtract_unit_meters', sa.Boolean(), nullable=False),
    sa.Column('unit_meter_item_id', sa.Uuid(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("method IN ('area', 'household', 'fixed_share')", name=op.f('ck_shared_meter_method_known')),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_shared_meter_building_id_building')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_shared_meter_estate_id_estate')),
    sa.ForeignKeyConstraint(['fee_item_id'], ['fee_item.id'], name=op.f('fk_shared_meter_fee_item_id_fee_item')),
    sa.ForeignKeyConstraint(['unit_meter_item_id'], ['fee_item.id'], name=op.f('fk_shared_meter_unit_meter_item_id_fee_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_meter')),
    sa.UniqueConstraint('estate_id', 'name', name=op.f('uq_shared_meter_estate_id_name'))
    )
    op.create_index(op.f('ix_shared_meter_building_id'), 'shared_meter', ['building_id'], unique=False)
    op.create_index(op.f('ix_shared_meter_estate_id'), 'shared_meter', ['estate_id'], unique=False)
    op.create_index(op.f('ix_shared_meter_fee_item_id'), 'shared_meter', ['fee_item_id'], unique=False)
    op.create_table('shared_meter_reading',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('shared_meter_id', sa.Uuid(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('previous', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('current', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint('current >= previous', name=op.f('ck_shared_meter_reading_reading_not_backwards')),
    sa.CheckConstraint('previous >= 0', name=op.f('ck_shared_meter_reading_reading_not_negative')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_shared_meter_reading_estate_id_estate')),
    sa.ForeignKeyConstraint(['read_by'], ['user.id'], name=op.f('fk_shared_meter_reading_read_by_user')),
    sa.ForeignKeyConstraint(['shared_meter_id'], ['shared_meter.id'], name=op.f('fk_shared_meter_reading_shared_meter_id_shared_meter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_meter_reading'))
    )
    op.create_index(op.f('ix_shared_meter_reading_estate_id'), 'shared_meter_reading', ['estate_id'], unique=False)
    op.create_index('ix_shared_meter_reading_meter_period', 'shared_meter_reading', ['shared_meter_id', 'period'], unique=False)
    op.create_table('shared_meter_share',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('shared_meter_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('share', sa.Numeric(precision=7, scale=6), nullable=False),
    sa.CheckConstraint('share > 0 AND share <= 1', name=op.f('ck_shared_meter_share_share_in_range')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_shared_meter_share_estate_id_estate')),
    sa.ForeignKeyConstraint(['shared_meter_id'], ['shared_meter.id'], name=op.f('fk_shared_meter_share_shared_meter_id_shared_meter')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_shared_meter_share_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_meter_share')),
    sa.UniqueConstraint('shared_meter_id', 'unit_id', name=op.f('uq_shared_meter_share_shared_meter_id_unit_id'))
    )
    op.create_index(op.f('ix_shared_meter_share_estate_id'), 'shared_meter_share', ['estate_id'], unique=False)
    op.create_index(op.f('ix_shared_meter_share_unit_id'), 'shared_meter_share', ['unit_id'], unique=False)
    op.create_table('shared_meter_split',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('shared_meter_id', sa.Uuid(), nullable=False),
    sa.Column('reading_id', sa.Uuid(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('meter_usage', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('own_usage', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('usage', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('rate', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('factor_total', sa.Numeric(precision=14, scale=6), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('approved_by', sa.Uuid(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('billed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('discard_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.CheckConstraint("status <> 'discarded' OR discard_reason <> ''", name=op.f('ck_shared_meter_split_discard_has_reason')),
    sa.CheckConstraint("status IN ('draft', 'approved', 'billed', 'discarded')", name=op.f('ck_shared_meter_split_status_known')),
    sa.CheckConstraint('usage >= 0 AND total >= 0', name=op.f('ck_shared_meter_split_not_negative')),
    sa.ForeignKeyConstraint(['approved_by'], ['user.id'], name=op.f('fk_shared_meter_split_approved_by_user')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_shared_meter_split_estate_id_estate')),
    sa.ForeignKeyConstraint(['reading_id'], ['shared_meter_reading.id'],
                            name=op.f('fk_shared_meter_split_reading_id_shared_meter_reading')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user.id'], name=op.f('fk_shared_meter_split_recorded_by_user')),
    sa.ForeignKeyConstraint(['shared_meter_id'], ['shared_meter.id'], name=op.f('fk_shared_meter_split_shared_meter_id_shared_meter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_meter_split')),
    sa.UniqueConstraint('reading_id', name=op.f('uq_shared_meter_split_reading_id'))
    )
    op.create_index(op.f('ix_shared_meter_split_estate_id'), 'shared_meter_split', ['estate_id'], unique=False)
    op.create_index(op.f('ix_shared_meter_split_shared_meter_id'), 'shared_meter_split', ['shared_meter_id'], unique=False)
    op.create_index('uq_shared_meter_split_live', 'shared_meter_split', ['shared_meter_id', 'period'], unique=True,
                    postgresql_where=sa.text("status <> 'discarded'"))
    op.create_table('shared_meter_split_line',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('split_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('factor', sa.Numeric(precision=14, scale=6), nullable=False),
    sa.Column('exact', sa.Numeric(precision=16, scale=6), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('adjustment', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('charge_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_shared_meter_split_line_amount_not_negative')),
    sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_shared_meter_split_line_charge_id_charge')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_shared_meter_split_line_estate_id_estate')),
    sa.ForeignKeyConstraint(['split_id'], ['shared_meter_split.id'], name=op.f('fk_shared_meter_split_line_split_id_shared_meter_split')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_shared_meter_split_line_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_meter_split_line')),
    sa.UniqueConstraint('split_id', 'unit_id', name=op.f('uq_shared_meter_split_line_split_id_unit_id'))
    )
    op.create_index(op.f('ix_shared_meter_split_line_estate_id'), 'shared_meter_split_line', ['estate_id'], unique=False)
    op.create_index(op.f('ix_shared_meter_split_line_unit_id'), 'shared_meter_split_line', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_shared_meter_split_line_unit_id'), table_name='shared_meter_split_line')
    op.drop_index(op.f('ix_shared_meter_split_line_estate_id'), table_name='shared_meter_split_line')
    op.drop_table('shared_meter_split_line')
    op.drop_index('uq_shared_meter_split_live', table_name='shared_meter_split', postgresql_where=sa.text("status <> 'discarded'"))
    op.drop_index(op.f('ix_shared_meter_split_shared_meter_id'), table_name='shared_meter_split')
    op.drop_index(op.f('ix_shared_meter_split_estate_id'), table_name='shared_meter_split')
    op.drop_table('shared_meter_split')
    op.drop_index(op.f('ix_shared_meter_share_unit_id'), table_name='shared_meter_share')
    op.drop_index(op.f('ix_shared_meter_share_estate_id'), table_name='shared_meter_share')
    op.drop_table('shared_meter_share')
    op.drop_index('ix_shared_meter_reading_meter_period', table_name='shared_meter_reading')
    op.drop_index(op.f('ix_shared_meter_reading_estate_id'), table_name='shared_meter_reading')
    op.drop_table('shared_meter_reading')
    op.drop_index(op.f('ix_shared_meter_fee_item_id'), table_name='shared_meter')
    op.drop_index(op.f('ix_shared_meter_estate_id'), table_name='shared_meter')
    op.drop_index(op.f('ix_shared_meter_building_id'), table_name='shared_meter')
    op.drop_table('shared_meter')
