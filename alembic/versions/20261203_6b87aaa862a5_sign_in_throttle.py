"""sign-in throttle: known places replace the hard account lock

Revision ID: 6b87aaa862a5
Revises: 3c1e9a7f5b20
Create Date: 2026-12-03 12:45:00.000000

The lock (user.failed_logins, user.locked_until) is gone: failures are counted in the
rate-limit table instead (app/domain/auth/throttle.py). sign_in_place remembers where each
user last signed in successfully, so they still get in from there while their name is throttled.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '6b87aaa862a5'
down_revision: str | Sequence[str] | None = '3c1e9a7f5b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sign_in_place',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('last_signed_in_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sign_in_place_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'address', name=op.f('pk_sign_in_place')),
    )
    op.drop_column('user', 'failed_logins')
    op.drop_column('user', 'locked_until')


def downgrade() -> None:
    op.add_column('user', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.alter_column('user', 'failed_logins', server_default=None)
    op.drop_table('sign_in_place')
