"""foundation

Revision ID: 2c2b074a0e98
Revises: 
Create Date: 2026-11-28 17:21:10.641103
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '2c2b074a0e98'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of app.domain.audit.model's DDL: a migration must not change when the app does.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entry
FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()
"""


def upgrade() -> None:
    # Booking ranges are kept apart by exclusion constraints that mix = and &&.
    op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
    op.create_table('audit_entry',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    op.create_index(op.f('ix_audit_entry_actor_id'), 'audit_entry', ['actor_id'], unique=False)
    op.create_index(op.f('ix_audit_entry_at'), 'audit_entry', ['at'], unique=False)
    op.create_index(op.f('ix_audit_entry_entity_id'), 'audit_entry', ['entity_id'], unique=False)
    op.create_index(op.f('ix_audit_entry_estate_id'), 'audit_entry', ['estate_id'], unique=False)
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(APPEND_ONLY_TRIGGER)
    op.create_table('company',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company'))
    )
    op.create_table('estate',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('office_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('morning_open', sa.Time(), nullable=False),
    sa.Column('morning_close', sa.Time(), nullable=False),
    sa.Column('afternoon_open', sa.Time(), nullable=False),
    sa.Column('afternoon_close', sa.Time(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_estate_company_id_company')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_estate'))
    )
    op.create_index(op.f('ix_estate_company_id'), 'estate', ['company_id'], unique=False)
    op.create_table('user',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('roles', sa.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_user_company_id_company')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('username', name=op.f('uq_user_username'))
    )
    op.create_index(op.f('ix_user_company_id'), 'user', ['company_id'], unique=False)
    op.create_table('api_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('estate_ids', sa.ARRAY(sa.Uuid()), nullable=False),
    sa.Column('scopes', sa.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_api_key_company_id_company')),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_api_key_created_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash'))
    )
    op.create_index(op.f('ix_api_key_company_id'), 'api_key', ['company_id'], unique=False)
    op.create_table('auth_token',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_auth_token_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_token_token_hash'))
    )
    op.create_index(op.f('ix_auth_token_expires_at'), 'auth_token', ['expires_at'], unique=False)
    op.create_index(op.f('ix_auth_token_user_id'), 'auth_token', ['user_id'], unique=False)
    op.create_table('job_run',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('job', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=True),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('summary', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_job_run_estate_id_estate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    sa.UniqueConstraint('job', 'estate_id', 'period', name=op.f('uq_job_run_job_estate_id_period'), postgresql_nulls_not_distinct=True)
    )
    op.create_index(op.f('ix_job_run_estate_id'), 'job_run', ['estate_id'], unique=False)
    op.create_index('ix_job_run_job_started_at', 'job_run', ['job', 'started_at'], unique=False)
    op.create_table('jurisdiction',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('manager_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_jurisdiction_estate_id_estate')),
    sa.ForeignKeyConstraint(['manager_id'], ['user.id'], name=op.f('fk_jurisdiction_manager_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jurisdiction')),
    sa.UniqueConstraint('estate_id', 'name', name=op.f('uq_jurisdiction_estate_id_name'))
    )
    op.create_index(op.f('ix_jurisdiction_estate_id'), 'jurisdiction', ['estate_id'], unique=False)
    op.create_index(op.f('ix_jurisdiction_manager_id'), 'jurisdiction', ['manager_id'], unique=False)
    op.create_table('owner',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('surname', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('title', sa.String(length=4), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_owner_estate_id_estate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner'))
    )
    op.create_index(op.f('ix_owner_estate_id'), 'owner', ['estate_id'], unique=False)
    op.create_index(op.f('ix_owner_full_name'), 'owner', ['full_name'], unique=False)
    op.create_table('user_estate',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_user_estate_estate_id_estate')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_estate_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'estate_id', name=op.f('pk_user_estate'))
    )
    op.create_index(op.f('ix_user_estate_estate_id'), 'user_estate', ['estate_id'], unique=False)
    op.create_table('building',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_building_estate_id_estate')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_building_jurisdiction_id_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_building')),
    sa.UniqueConstraint('estate_id', 'name', name=op.f('uq_building_estate_id_name'))
    )
    op.create_index(op.f('ix_building_estate_id'), 'building', ['estate_id'], unique=False)
    op.create_index(op.f('ix_building_jurisdiction_id'), 'building', ['jurisdiction_id'], unique=False)
    op.create_table('owner_phone',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('raw', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_owner_phone_estate_id_estate')),
    sa.ForeignKeyConstraint(['owner_id'], ['owner.id'], name=op.f('fk_owner_phone_owner_id_owner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_phone')),
    sa.UniqueConstraint('owner_id', 'phone', name=op.f('uq_owner_phone_owner_id_phone'))
    )
    op.create_index(op.f('ix_owner_phone_estate_id'), 'owner_phone', ['estate_id'], unique=False)
    op.create_index(op.f('ix_owner_phone_owner_id'), 'owner_phone', ['owner_id'], unique=False)
    op.create_index(op.f('ix_owner_phone_phone'), 'owner_phone', ['phone'], unique=False)
    op.create_table('unit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('building_id', sa.Uuid(), nullable=False),
    sa.Column('entrance', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('area', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('is_vacant', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_unit_building_id_building')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_unit_estate_id_estate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('building_id', 'entrance', 'number', name=op.f('uq_unit_building_id_entrance_number'))
    )
    op.create_index(op.f('ix_unit_building_id'), 'unit', ['building_id'], unique=False)
    op.create_index(op.f('ix_unit_estate_id'), 'unit', ['estate_id'], unique=False)
    op.create_table('unit_owner',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_unit_owner_estate_id_estate')),
    sa.ForeignKeyConstraint(['owner_id'], ['owner.id'], name=op.f('fk_unit_owner_owner_id_owner')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_owner_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_owner')),
    sa.UniqueConstraint('unit_id', 'owner_id', name=op.f('uq_unit_owner_unit_id_owner_id'))
    )
    op.create_index(op.f('ix_unit_owner_estate_id'), 'unit_owner', ['estate_id'], unique=False)
    op.create_index(op.f('ix_unit_owner_owner_id'), 'unit_owner', ['owner_id'], unique=False)
    op.create_index(op.f('ix_unit_owner_unit_id'), 'unit_owner', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_unit_owner_unit_id'), table_name='unit_owner')
    op.drop_index(op.f('ix_unit_owner_owner_id'), table_name='unit_owner')
    op.drop_index(op.f('ix_unit_owner_estate_id'), table_name='unit_owner')
    op.drop_table('unit_owner')
    op.drop_index(op.f('ix_unit_estate_id'), table_name='unit')
    op.drop_index(op.f('ix_unit_building_id'), table_name='unit')
    op.drop_table('unit')
    op.drop_index(op.f('ix_owner_phone_phone'), table_name='owner_phone')
    op.drop_index(op.f('ix_owner_phone_owner_id'), table_name='owner_phone')
    op.drop_index(op.f('ix_owner_phone_estate_id'), table_name='owner_phone')
    op.drop_table('owner_phone')
    op.drop_index(op.f('ix_building_jurisdiction_id'), table_name='building')
    op.drop_index(op.f('ix_building_estate_id'), table_name='building')
    op.drop_table('building')
    op.drop_index(op.f('ix_user_estate_estate_id'), table_name='user_estate')
    op.drop_table('user_estate')
    op.drop_index(op.f('ix_owner_full_name'), table_name='owner')
    op.drop_index(op.f('ix_owner_estate_id'), table_name='owner')
    op.drop_table('owner')
    op.drop_index(op.f('ix_jurisdiction_manager_id'), table_name='jurisdiction')
    op.drop_index(op.f('ix_jurisdiction_estate_id'), table_name='jurisdiction')
    op.drop_table('jurisdiction')
    op.drop_index('ix_job_run_job_started_at', table_name='job_run')
    op.drop_index(op.f('ix_job_run_estate_id'), table_name='job_run')
    op.drop_table('job_run')
    op.drop_index(op.f('ix_auth_token_user_id'), table_name='auth_token')
    op.drop_index(op.f('ix_auth_token_expires_at'), table_name='auth_token')
    op.drop_table('auth_token')
    op.drop_index(op.f('ix_api_key_company_id'), table_name='api_key')
    op.drop_table('api_key')
    op.drop_index(op.f('ix_user_company_id'), table_name='user')
    op.drop_table('user')
    op.drop_index(op.f('ix_estate_company_id'), table_name='estate')
    op.drop_table('estate')
    op.drop_table('company')
    op.drop_index(op.f('ix_audit_entry_estate_id'), table_name='audit_entry')
    op.drop_index(op.f('ix_audit_entry_entity_id'), table_name='audit_entry')
    op.drop_index(op.f('ix_audit_entry_at'), table_name='audit_entry')
    op.drop_index(op.f('ix_audit_entry_actor_id'), table_name='audit_entry')
    op.execute('DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry')
    op.drop_table('audit_entry')
    op.execute('DROP FUNCTION IF EXISTS audit_entry_append_only()')
