"""readable numbers for service requests (QS-BX-2026-000045) and work orders (QS-WX-2026-000123)

Revision ID: 6fc71d73ec07
Revises: be77d86de0b2
Create Date: 2026-12-03 18:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '6fc71d73ec07'
down_revision: str | Sequence[str] | None = 'be77d86de0b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, document_counter series, letters): as app.domain.repairs.numbers writes them.
SERIES = [('service_request', 'service_request', 'BX'), ('work_order', 'work_order', 'WX')]

# Existing rows are numbered in creation order per estate and year, the year read in the estate's
# zone (an unknown zone name counts in the model's default zone rather than failing the upgrade).
_NUMBER = """
WITH zoned AS (
    SELECT t.id, t.estate_id, t.created_at, e.code,
           extract(year FROM t.created_at AT TIME ZONE
                   CASE WHEN e.time_zone IN (SELECT name FROM pg_timezone_names) THEN e.time_zone
                        ELSE 'Asia/Shanghai' END)::int AS year
    FROM {table} t JOIN estate e ON e.id = t.estate_id
), numbered AS (
    SELECT id, code, year,
           row_number() OVER (PARTITION BY estate_id, year ORDER BY created_at, id) AS seq
    FROM zoned
)
UPDATE {table} t
SET number = n.code || '-{letters}-' || n.year || '-' || lpad(n.seq::text, greatest(6, length(n.seq::text)), '0')
FROM numbered n WHERE n.id = t.id
"""

# The counters go on from the last number given, so the next registration follows on without a gap.
_COUNTERS = """
INSERT INTO document_counter (estate_id, series, year, last_seq)
SELECT estate_id, '{series}', split_part(number, '-', -2)::int, count(*)
FROM {table} GROUP BY estate_id, split_part(number, '-', -2)::int
ON CONFLICT (estate_id, series, year) DO UPDATE
SET last_seq = greatest(document_counter.last_seq, excluded.last_seq)
"""

# The daily repair logs compiled before: each row gets its order's and request's number.
_LOGS = """
UPDATE daily_repair_log d SET rows = (
    SELECT coalesce(jsonb_agg(CASE WHEN w.id IS NULL THEN t.row
                                   ELSE t.row || jsonb_build_object('number', w.number, 'request_number', r.number) END
                              ORDER BY t.n), '[]'::jsonb)
    FROM jsonb_array_elements(d.rows) WITH ORDINALITY AS t(row, n)
    LEFT JOIN work_order w ON w.id = (t.row ->> 'work_order_id')::uuid
    LEFT JOIN service_request r ON r.id = w.request_id
)
WHERE jsonb_array_length(d.rows) > 0
"""


def upgrade() -> None:
    for table, series, letters in SERIES:
        op.add_column(table, sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        op.execute(_NUMBER.format(table=table, letters=letters))
        op.execute(_COUNTERS.format(table=table, series=series))
        op.alter_column(table, 'number', nullable=False)
        op.create_unique_constraint(op.f(f'uq_{table}_estate_id_number'), table, ['estate_id', 'number'])
    op.execute(_LOGS)


def downgrade() -> None:
    op.execute("UPDATE daily_repair_log SET rows = (SELECT coalesce(jsonb_agg((t.row - 'number' - 'request_number') ORDER BY t.n),"
               " '[]'::jsonb) FROM jsonb_array_elements(rows) WITH ORDINALITY AS t(row, n)) WHERE jsonb_array_length(rows) > 0")
    for table, series, _letters in SERIES:
        op.drop_constraint(op.f(f'uq_{table}_estate_id_number'), table, type_='unique')
        op.drop_column(table, 'number')
        op.execute(f"DELETE FROM document_counter WHERE series = '{series}'")
