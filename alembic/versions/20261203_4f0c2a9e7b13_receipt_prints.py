"""receipt prints: one row per recorded print, the estate's receipt copies and note

A print used to be counted on the receipt (reprint_count) and in the audit trail on every GET of
the PDF. The audit entries of those prints become rows here, numbered in the order they were
made, so the history a receipt shows starts where the old counter left off.

Revision ID: 4f0c2a9e7b13
Revises: 6fc71d73ec07
Create Date: 2026-12-03 19:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = '4f0c2a9e7b13'
down_revision: str | Sequence[str] | None = '6fc71d73ec07'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_COPIES = "'{存根联,交款人联,记账联}'::varchar(10)[]"

# Old prints by a user (actor_id) of a receipt still there; the first print needed no reason,
# later ones (a reprint needs one) say they were carried over.
CARRY_OVER = """
INSERT INTO receipt_print (id, created_at, estate_id, receipt_id, number, printed_at, printed_by, printed_by_name, reason)
SELECT gen_random_uuid(), at, estate_id, receipt_id, number, at, actor_id, actor_label,
       CASE WHEN number = 1 THEN '' ELSE '补打（旧记录）' END
FROM (SELECT a.at, r.estate_id, r.id AS receipt_id, a.actor_id, left(a.actor_label, 100) AS actor_label,
             row_number() OVER (PARTITION BY r.id ORDER BY a.at, a.id) AS number
      FROM audit_entry a
      JOIN receipt r ON r.id::text = a.entity_id
      JOIN "user" u ON u.id = a.actor_id
      WHERE a.entity = 'receipt' AND a.action = 'receipt.print') AS old
"""


def upgrade() -> None:
    op.create_table('receipt_print',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('receipt_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('printed_by', sa.Uuid(), nullable=False),
    sa.Column('printed_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.CheckConstraint('number > 0', name=op.f('ck_receipt_print_number_positive')),
    sa.CheckConstraint("number = 1 OR reason <> ''", name=op.f('ck_receipt_print_reprint_has_reason')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_receipt_print_estate_id_estate')),
    sa.ForeignKeyConstraint(['printed_by'], ['user.id'], name=op.f('fk_receipt_print_printed_by_user')),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_receipt_print_receipt_id_receipt')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_print')),
    sa.UniqueConstraint('receipt_id', 'number', name=op.f('uq_receipt_print_receipt_id_number'))
    )
    op.create_index(op.f('ix_receipt_print_estate_id'), 'receipt_print', ['estate_id'], unique=False)
    op.execute(CARRY_OVER)
    op.drop_column('receipt', 'reprint_count')
    op.add_column('estate', sa.Column('receipt_copies', postgresql.ARRAY(sa.String(length=10)), nullable=False,
                                      server_default=sa.text(DEFAULT_COPIES)))
    op.add_column('estate', sa.Column('receipt_note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    op.drop_column('estate', 'receipt_note')
    op.drop_column('estate', 'receipt_copies')
    op.add_column('receipt', sa.Column('reprint_count', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE receipt r SET reprint_count = p.n - 1 FROM "
               "(SELECT receipt_id, count(*) AS n FROM receipt_print GROUP BY receipt_id) p WHERE p.receipt_id = r.id")
    op.alter_column('receipt', 'reprint_count', server_default=None)
    op.drop_index(op.f('ix_receipt_print_estate_id'), table_name='receipt_print')
    op.drop_table('receipt_print')
