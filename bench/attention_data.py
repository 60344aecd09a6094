"""Add a large estate with a year of history to a benchmark database, for bench/attention.py.

    PROPDESK_DATA_DIR=/tmp/bench-attn .venv/bin/python bench/attention_data.py

One synthetic estate (code BN by default): 5,000 units in 50 buildings, their owners and
phones, ~10,000 service requests over a year with their work orders in realistic states,
callbacks, reply promises, a year of cashier sessions with payments and gapless receipts
for three receptionists, weekly approval batches and monthly voucher manifests. Everything
is written set-based (INSERT ... SELECT generate_series) in one transaction, then analysed.

It migrates the database and creates any table the migrations lack, like bench/load_demo.py,
so it works on an empty data directory as well as next to the demo. The logins it makes
(password `--password`): bn.reception1..3, bn.tech1..8, bn.supervisor, bn.director,
bn.finance, bn.records, bn.manager1..4. A second run refuses: the estate code exists.
Manifest lines (they need vouchers) and reopened rounds are not generated; the attention
rules do not read them.
"""
from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.cli.common import _migrate, _prepare, _settings
from app.domain.auth.secrets import hash_password
from app.domain.models import metadata

# (username suffix, role, count)
STAFF = [("reception", "receptionist", 3), ("tech", "technician", 8), ("supervisor", "supervisor", 1),
         ("director", "cs_director", 1), ("finance", "finance", 1), ("records", "records_clerk", 1),
         ("manager", "manager", 4)]

PARAMS = """
CREATE TEMP TABLE bp ON COMMIT DROP AS SELECT
  CAST(:company_id AS uuid) AS company_id, CAST(:estate_id AS uuid) AS estate_id, CAST(:now AS timestamptz) AS now,
  CAST(:tz AS text) AS tz, CAST(:code AS text) AS code, CAST(:buildings AS int) AS buildings,
  CAST(:orders AS int) AS orders, CAST(:days AS int) AS days,
  (CAST(:now AS timestamptz) AT TIME ZONE CAST(:tz AS text))::date AS today
"""

ESTATE = [
    "INSERT INTO company (id, created_at, name) SELECT company_id, now - interval '3 years', '基准物业' FROM bp",
    """INSERT INTO estate (id, created_at, name, office_name, code, time_zone, company_id, morning_open, morning_close,
                          afternoon_open, afternoon_close, script)
       SELECT estate_id, now - interval '3 years', '基准花园', '基准花园管理處', code, tz, company_id,
              '08:00', '12:00', '14:00', '18:00', 'simplified' FROM bp""",
]

STAFF_ROWS = [
    """INSERT INTO "user" (id, created_at, company_id, username, full_name, phone, roles, password_hash, is_active)
       SELECT s.id, bp.now - interval '2 years', bp.company_id, lower(bp.code) || '.' || s.suffix || s.label,
              '员工' || s.suffix || s.label, NULL, ARRAY[s.role]::varchar[], s.hash, true
       FROM bench_staff s, bp""",
    "INSERT INTO user_estate (user_id, estate_id) SELECT s.id, bp.estate_id FROM bench_staff s, bp",
    """CREATE TEMP TABLE bs ON COMMIT DROP AS SELECT
         array_agg(id ORDER BY n) FILTER (WHERE role = 'receptionist') AS receps,
         array_agg(id ORDER BY n) FILTER (WHERE role = 'technician') AS techs,
         array_agg(id ORDER BY n) FILTER (WHERE role = 'manager') AS managers,
         min(id::text) FILTER (WHERE role = 'supervisor')::uuid AS supervisor,
         min(id::text) FILTER (WHERE role = 'cs_director')::uuid AS director,
         min(id::text) FILTER (WHERE role = 'finance')::uuid AS finance,
         min(id::text) FILTER (WHERE role = 'records_clerk')::uuid AS records
       FROM bench_staff""",
]

ROSTER = [
    """INSERT INTO jurisdiction (id, created_at, estate_id, name, manager_id)
       SELECT gen_random_uuid(), bp.now - interval '3 years', bp.estate_id, j || '片区', bs.managers[j]
       FROM bp, bs, generate_series(1, 4) j""",
    """INSERT INTO building (id, created_at, estate_id, name, number, jurisdiction_id)
       SELECT gen_random_uuid(), bp.now - interval '3 years', bp.estate_id, b || '号楼', b, j.id
       FROM bp, generate_series(1, bp.buildings) b
       JOIN jurisdiction j ON j.name = (1 + (b - 1) * 4 / (SELECT buildings FROM bp)) || '片区'
       WHERE j.estate_id = bp.estate_id""",
    # 2 entrances x 25 floors x 2 flats: 100 units a building.
    """INSERT INTO unit (id, created_at, estate_id, building_id, entrance, number, floor, area, is_public, is_vacant, note)
       SELECT gen_random_uuid(), bp.now - interval '3 years', bp.estate_id, b.id, e || '单元', f || lpad(p::text, 2, '0'),
              f, (ARRAY[68.5, 89.2, 96.0, 112.7, 128.3, 143.9])[1 + (p * 3 + b.number) % 6], false, random() < 0.05, ''
       FROM bp JOIN building b ON b.estate_id = bp.estate_id,
            generate_series(1, 2) e, generate_series(1, 25) f, generate_series(1, 2) p""",
    """CREATE TEMP TABLE bu ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY b.number, u.entrance, u.floor, u.number)::int AS n, u.id AS unit_id,
              u.building_id, b.name AS building_name, b.jurisdiction_id, gen_random_uuid() AS owner_id,
              gen_random_uuid() AS spouse_id
       FROM bp JOIN unit u ON u.estate_id = bp.estate_id JOIN building b ON b.id = u.building_id""",
    # Every 7th flat has a co-owner (n + 100000 gives the spouse other names and phone).
    """CREATE TEMP TABLE bo ON COMMIT DROP AS
       SELECT owner_id AS id, unit_id, n, true AS is_primary, n % 2 = 0 AS female FROM bu
       UNION ALL SELECT spouse_id, unit_id, n + 100000, false, n % 2 = 1 FROM bu WHERE n % 7 = 0""",
    """INSERT INTO owner (id, created_at, estate_id, full_name, surname, title, note)
       SELECT o.id, bp.now - interval '3 years', bp.estate_id, s.sur || (ARRAY['伟','芳','娜','敏','静','丽','强','磊',
              '军','洋','勇','艳','杰','娟','涛','明','超','秀英','霞','平','刚','桂英','建华','志强','海燕','晓东',
              '玉兰','国庆','春梅','德明'])[1 + (o.n * 7) % 30], s.sur, CASE WHEN o.female THEN '女士' ELSE '先生' END, ''
       FROM bp, bo o CROSS JOIN LATERAL (SELECT (ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙',
              '马','朱','胡','郭','何','高','林','罗'])[1 + o.n % 20] AS sur) s""",
    """INSERT INTO unit_owner (id, created_at, estate_id, unit_id, owner_id, is_primary)
       SELECT gen_random_uuid(), bp.now - interval '3 years', bp.estate_id, o.unit_id, o.id, o.is_primary FROM bp, bo o""",
    """INSERT INTO owner_phone (id, created_at, estate_id, owner_id, phone, raw)
       SELECT gen_random_uuid(), bp.now - interval '3 years', bp.estate_id, o.id, ph, substr(ph, 1, 3) || '-'
              || substr(ph, 4, 4) || '-' || substr(ph, 8, 4)
       FROM bp, bo o CROSS JOIN LATERAL (SELECT '13' || lpad(((o.n * 7919) % 1000000000)::text, 9, '0') AS ph) x""",
]

# One row per service request with its whole planned life; what lies after `now` did not happen yet.
PLAN = [
    """CREATE TEMP TABLE bw0 ON COMMIT DROP AS
       SELECT n, bp.now - bp.days * interval '1 day' * ((bp.orders - n + random()) / bp.orders) AS created_at,
              random() AS r_kind, random() AS r_unit, random() AS r_tech, random() AS r_cancel, random() AS r_await,
              random() AS r_work, random() AS r_cb, random() AS r_cbd, random() AS r_res, random() AS r_dec,
              random() AS r_job, gen_random_uuid() AS request_id, gen_random_uuid() AS order_id
       FROM bp, generate_series(1, bp.orders) n""",
    """CREATE TEMP TABLE bw1 ON COMMIT DROP AS
       SELECT w.*, w.r_kind < 0.08 AS enquiry, w.r_kind >= 0.08 AND w.r_kind < 0.13 AS public_area,
              w.r_kind >= 0.08 AND w.r_cancel < 0.02 AS cancelled,
              -- a few dozen orders of the last 5 days wait for a technician to name the time (§7.3.7)
              w.r_kind >= 0.08 AND w.r_cancel >= 0.02 AND w.created_at > bp.now - interval '5 days'
                  AND w.r_await < 0.3 AS awaiting,
              w.r_await < 0.08 AS had_promise,
              bs.techs[1 + floor(w.r_tech * array_length(bs.techs, 1))::int] AS tech_id, bs.receps[1 + w.n % 3] AS recep_id,
              bu.unit_id, bu.owner_id, bu.building_id, bu.building_name, bu.jurisdiction_id, bu.n AS unit_n,
              w.created_at + (10 + w.r_work * 50) * interval '1 minute' AS dispatched_at,
              w.created_at + (2 + w.r_work * w.r_work * 70) * interval '1 hour' AS done_work_at
       FROM bw0 w CROSS JOIN bp CROSS JOIN bs
       JOIN bu ON bu.n = 1 + floor(w.r_unit * (SELECT count(*) FROM bu))::int""",
    """CREATE TEMP TABLE bw2 ON COMMIT DROP AS
       SELECT w.*, CASE WHEN w.enquiry OR w.cancelled OR w.awaiting OR w.done_work_at > bp.now THEN NULL
                        ELSE w.done_work_at END AS completed_at,
              w.done_work_at - (20 + w.r_job * 40) * interval '1 minute' AS started_at,
              ((w.done_work_at AT TIME ZONE bp.tz)::date + 7 + time '23:59:59') AT TIME ZONE bp.tz AS due_at,
              -- 8% rung late, 2% found a problem the CS director must decide, the rest in time
              w.done_work_at + CASE WHEN w.r_cb < 0.08 THEN 8.05 + w.r_cbd * 6 ELSE 0.2 + w.r_cbd ^ 2 * 6.4 END
                  * interval '1 day' AS rung_at,
              w.r_cb >= 0.08 AND w.r_cb < 0.10 AS problem
       FROM bw1 w, bp""",
    """CREATE TEMP TABLE bw3 ON COMMIT DROP AS
       SELECT w.*, w.rung_at + (1 + w.r_res ^ 3 * 60) * interval '1 day' AS resolved_plan,
              CASE WHEN w.completed_at IS NULL THEN NULL WHEN w.rung_at > bp.now THEN 'open'
                   WHEN NOT w.problem THEN 'done'
                   WHEN w.rung_at + (1 + w.r_res ^ 3 * 60) * interval '1 day' > bp.now THEN 'escalated'
                   ELSE 'resolved' END AS cb_status
       FROM bw2 w, bp""",
    """CREATE TEMP TABLE bw4 ON COMMIT DROP AS
       SELECT w.*, x.cb_closed_at,
              date_trunc('week', x.cb_closed_at AT TIME ZONE bp.tz)::date AS monday,
              ((date_trunc('week', x.cb_closed_at AT TIME ZONE bp.tz)::date + 7) + time '08:00') AT TIME ZONE bp.tz
                  AS batch_built_at
       FROM bw3 w CROSS JOIN bp CROSS JOIN LATERAL (SELECT CASE w.cb_status WHEN 'done' THEN w.rung_at
              WHEN 'resolved' THEN w.resolved_plan END AS cb_closed_at) x""",
    # Monday's batch of this week is still before the supervisor; older ones were approved.
    """CREATE TEMP TABLE bw5 ON COMMIT DROP AS
       SELECT w.*, CASE WHEN w.batch_built_at IS NULL OR w.batch_built_at > bp.now THEN NULL
                        WHEN w.batch_built_at > bp.now - interval '7 days' THEN 'pending' ELSE 'approved' END AS line,
              CASE WHEN w.batch_built_at <= bp.now - interval '7 days'
                   THEN w.batch_built_at + (1 + w.r_dec * 30) * interval '1 hour' END AS approved_at
       FROM bw4 w, bp""",
    """CREATE TEMP TABLE bw ON COMMIT DROP AS
       SELECT w.*, to_char(w.approved_at AT TIME ZONE bp.tz, 'YYYY-MM') AS month,
              CASE WHEN w.public_area THEN 'public_area' ELSE 'jurisdiction' END AS manifest_kind,
              (date_trunc('month', w.approved_at AT TIME ZONE bp.tz) + interval '1 month 9 hours') AT TIME ZONE bp.tz
                  AS manifest_built_at
       FROM bw5 w, bp""",
]

REPAIRS = [
    # The month's manifests; this month's of two patches and the records clerk are not signed for yet.
    """CREATE TEMP TABLE bm ON COMMIT DROP AS
       SELECT m.*, CASE WHEN m.left_open OR m.ack_plan > bp.now THEN NULL ELSE m.ack_plan END AS ack_at FROM bp,
         (SELECT gen_random_uuid() AS id, m.month, m.kind, m.jurisdiction_id, j.manager_id AS recipient_id, m.built_at,
                 m.month = max(m.month) OVER () AND (m.kind = 'public_area' OR j.name IN ('3片区', '4片区')) AS left_open,
                 m.built_at + (2 + random() * 60) * interval '1 hour' AS ack_plan
          FROM (SELECT DISTINCT w.month, w.manifest_kind AS kind, w.manifest_built_at AS built_at,
                       CASE WHEN NOT w.public_area THEN w.jurisdiction_id END AS jurisdiction_id
                FROM bw w, bp WHERE w.manifest_built_at <= bp.now) m
          LEFT JOIN jurisdiction j ON j.id = m.jurisdiction_id) m""",
    """INSERT INTO voucher_manifest (id, created_at, estate_id, month, kind, jurisdiction_id, recipient_id, built_at,
                                    acknowledged_at, acknowledged_by)
       SELECT m.id, m.built_at, bp.estate_id, m.month, m.kind, m.jurisdiction_id, m.recipient_id, m.built_at, m.ack_at,
              CASE WHEN m.ack_at IS NOT NULL THEN coalesce(m.recipient_id, bs.records) END
       FROM bm m, bp, bs""",
    """INSERT INTO service_request (id, created_at, estate_id, kind, channel, urgency, category, description, unit_id,
                                   owner_id, is_public_area, location, contact_name, contact_phone, window_start,
                                   window_end, reporter_id, registered_by, status, closed_note, closed_at, number)
       SELECT w.request_id, w.created_at, bp.estate_id, CASE WHEN w.enquiry THEN 'enquiry' ELSE 'repair' END,
              CASE WHEN w.r_job < 0.2 THEN 'walk_in' ELSE 'phone' END,
              CASE WHEN w.r_job > 0.97 THEN 'urgent' ELSE 'normal' END, c.category,
              CASE c.category WHEN 'plumbing' THEN '厨房水龙头漏水' WHEN 'electrical' THEN '客厅插座没电'
                   WHEN 'doors_windows' THEN '入户门锁芯卡住' WHEN 'public_area' THEN '电梯厅照明灯不亮'
                   ELSE CASE WHEN w.enquiry THEN '咨询物业费缴费方式' ELSE '空调冷凝水管脱落' END END,
              CASE WHEN NOT w.public_area THEN w.unit_id END, CASE WHEN NOT w.public_area THEN w.owner_id END,
              w.public_area, CASE WHEN w.public_area THEN w.building_name || '电梯厅' ELSE '' END,
              CASE WHEN w.public_area THEN '' ELSE o.surname || o.title END,
              CASE WHEN w.public_area THEN '' ELSE '13' || lpad(((w.unit_n * 7919) % 1000000000)::text, 9, '0') END,
              NULL, NULL, NULL, w.recep_id, CASE WHEN w.enquiry THEN 'closed_at_desk' ELSE 'ordered' END,
              CASE WHEN w.enquiry THEN '已答复业主' ELSE '' END,
              CASE WHEN w.enquiry THEN w.created_at + interval '5 minutes' END,
              bp.code || '-BX-' || extract(year FROM w.created_at AT TIME ZONE bp.tz) || '-' || lpad((row_number() OVER (
                  PARTITION BY extract(year FROM w.created_at AT TIME ZONE bp.tz) ORDER BY w.created_at, w.n))::text, 6, '0')
       FROM bw w CROSS JOIN bp JOIN owner o ON o.id = w.owner_id
       CROSS JOIN LATERAL (SELECT CASE WHEN w.enquiry THEN 'other' WHEN w.public_area THEN 'public_area'
              ELSE (ARRAY['plumbing', 'electrical', 'doors_windows', 'other'])[1 + floor(w.r_job * 4)::int] END
              AS category) c""",
    """INSERT INTO work_order (id, created_at, estate_id, request_id, status, category, unit_id, building_id,
                              is_public_area, technician_id, scheduled_start, scheduled_end, dispatched_at, accepted_at,
                              started_at, completed_at, callback_done_at, approved_at, approved_by, archived_at,
                              cancelled_at, cancel_reason, reopen_count, last_reason, number)
       SELECT w.order_id, w.created_at, bp.estate_id, w.request_id, s.status, r.category, r.unit_id, w.building_id,
              w.public_area, CASE WHEN s.status NOT IN ('pending_dispatch', 'cancelled') THEN w.tech_id END,
              CASE WHEN s.went THEN w.started_at - interval '10 minutes' END,
              CASE WHEN s.went THEN w.started_at + interval '50 minutes' END,
              CASE WHEN s.went THEN w.dispatched_at END,
              CASE WHEN s.went AND w.dispatched_at + interval '5 minutes' <= bp.now
                   THEN w.dispatched_at + interval '5 minutes' END,
              CASE WHEN s.went AND s.status <> 'dispatched' THEN w.started_at END,
              w.completed_at, w.cb_closed_at, w.approved_at, CASE WHEN w.approved_at IS NOT NULL THEN bs.supervisor END,
              CASE WHEN s.status = 'archived' THEN m.ack_at END,
              CASE WHEN w.cancelled THEN w.created_at + interval '30 minutes' END,
              CASE WHEN w.cancelled THEN '业主已自行处理' ELSE '' END, 0, '',
              bp.code || '-WX-' || extract(year FROM w.created_at AT TIME ZONE bp.tz) || '-' || lpad((row_number() OVER (
                  PARTITION BY extract(year FROM w.created_at AT TIME ZONE bp.tz) ORDER BY w.created_at, w.n))::text, 6, '0')
       FROM bw w CROSS JOIN bp CROSS JOIN bs JOIN service_request r ON r.id = w.request_id
       LEFT JOIN bm m ON m.month = w.month AND m.kind = w.manifest_kind
            AND m.jurisdiction_id IS NOT DISTINCT FROM CASE WHEN NOT w.public_area THEN w.jurisdiction_id END
       CROSS JOIN LATERAL (SELECT CASE WHEN w.cancelled THEN 'cancelled'
              WHEN w.awaiting THEN 'awaiting_technician_confirmation'
              WHEN w.completed_at IS NULL THEN CASE WHEN bp.now < w.dispatched_at THEN 'pending_dispatch'
                   WHEN bp.now < w.started_at THEN 'dispatched' ELSE 'in_progress' END
              WHEN w.cb_closed_at IS NULL THEN 'completed'
              WHEN w.line IS DISTINCT FROM 'approved' THEN 'callback_done'
              WHEN m.ack_at IS NULL THEN 'approved' ELSE 'archived' END AS status) s0
       CROSS JOIN LATERAL (SELECT s0.status, s0.status NOT IN ('pending_dispatch', 'cancelled',
              'awaiting_technician_confirmation') AS went) s
       WHERE NOT w.enquiry""",
    """INSERT INTO callback (id, created_at, estate_id, work_order_id, round, technician_id, completed_at, due_at, status,
                            done_at, done_by, overdue_at, outcome, score, note, escalated_at, resolution,
                            resolution_reopened, resolved_at, resolved_by, attempts)
       SELECT gen_random_uuid(), w.completed_at, bp.estate_id, w.order_id, 1, w.tech_id, w.completed_at, w.due_at,
              w.cb_status, CASE WHEN w.cb_status <> 'open' THEN w.rung_at END,
              CASE WHEN w.cb_status <> 'open' THEN w.recep_id END,
              -- the daily job flags a callback the morning after its due day
              CASE WHEN w.due_at + interval '9 hours' < CASE WHEN w.cb_status = 'open' THEN bp.now ELSE w.rung_at END
                   THEN w.due_at + interval '9 hours' END,
              CASE w.cb_status WHEN 'open' THEN NULL WHEN 'done' THEN 'satisfied' ELSE 'problem' END,
              CASE WHEN w.cb_status = 'done' THEN 3 + floor(w.r_dec * 3)::int END,
              CASE WHEN w.cb_status IN ('escalated', 'resolved') THEN '维修后仍有渗水' ELSE '' END,
              CASE WHEN w.cb_status IN ('escalated', 'resolved') THEN w.rung_at END,
              CASE WHEN w.cb_status = 'resolved' THEN '已致电业主并安排复查' ELSE '' END,
              CASE WHEN w.cb_status = 'resolved' THEN false END,
              CASE WHEN w.cb_status = 'resolved' THEN w.resolved_plan END,
              CASE WHEN w.cb_status = 'resolved' THEN bs.director END, 0
       FROM bw w, bp, bs WHERE w.completed_at IS NOT NULL""",
    # Promises made when no technician was free: the waiting orders' are open (due in 0.5-20 h).
    """INSERT INTO reply_promise (id, created_at, estate_id, work_order_id, technician_id, promised_by, due_at,
                                 confirmed_start, confirmed_end, confirmed_at, owner_told_at, owner_told_by, closed_at,
                                 withdrawn_reason, status)
       SELECT gen_random_uuid(), w.created_at + interval '5 minutes', bp.estate_id, w.order_id, w.tech_id, w.recep_id,
              w.created_at + CASE WHEN w.awaiting THEN 0.5 + w.r_dec * 20 ELSE 0.6 END * interval '1 hour',
              CASE WHEN NOT w.awaiting THEN w.started_at - interval '10 minutes' END,
              CASE WHEN NOT w.awaiting THEN w.started_at + interval '50 minutes' END,
              CASE WHEN NOT w.awaiting THEN w.dispatched_at END,
              CASE WHEN NOT w.awaiting AND t.told_at <= bp.now THEN t.told_at END,
              CASE WHEN NOT w.awaiting AND t.told_at <= bp.now THEN w.recep_id END,
              CASE WHEN NOT w.awaiting AND t.told_at <= bp.now THEN t.told_at END, '',
              CASE WHEN w.awaiting THEN 'open' WHEN t.told_at <= bp.now THEN 'told' ELSE 'confirmed' END
       FROM bw w CROSS JOIN bp
       CROSS JOIN LATERAL (SELECT w.dispatched_at + (5 + w.r_dec * 40) * interval '1 minute' AS told_at) t
       WHERE NOT w.enquiry AND NOT w.cancelled AND (w.awaiting OR (w.had_promise AND w.dispatched_at <= bp.now))""",
    """INSERT INTO approval_batch (id, created_at, estate_id, week, built_at, built_by)
       SELECT gen_random_uuid(), b.built_at, bp.estate_id, to_char(b.monday, 'IYYY-"W"IW'), b.built_at, NULL
       FROM (SELECT DISTINCT monday, batch_built_at AS built_at FROM bw WHERE line IS NOT NULL) b, bp""",
    """INSERT INTO approval_line (id, created_at, estate_id, batch_id, work_order_id, decision, reason, decided_by,
                                 decided_at)
       SELECT gen_random_uuid(), w.batch_built_at, bp.estate_id, b.id, w.order_id, w.line, '',
              CASE WHEN w.line = 'approved' THEN bs.supervisor END, w.approved_at
       FROM bw w CROSS JOIN bp CROSS JOIN bs
       JOIN approval_batch b ON b.estate_id = bp.estate_id AND b.week = to_char(w.monday, 'IYYY-"W"IW')
       WHERE w.line IS NOT NULL""",
    # The counters where the numbering stopped, so a live request carries on from them.
    """INSERT INTO document_counter (estate_id, series, year, last_seq)
       SELECT bp.estate_id, t.series, split_part(t.number, '-', -2)::int, count(*)
       FROM bp, (SELECT 'service_request' AS series, number, estate_id FROM service_request
                 UNION ALL SELECT 'work_order', number, estate_id FROM work_order) t
       WHERE t.estate_id = bp.estate_id GROUP BY bp.estate_id, t.series, split_part(t.number, '-', -2)::int""",
]

# Two of the three receptionists are at the till each day; reception1 always today. Sessions
# are handed over by 17:00 and taken by finance the next morning, except today's, yesterday's
# (handed over, not yet taken) and one left open three days ago.
CASH = [
    """CREATE TEMP TABLE bc ON COMMIT DROP AS
       SELECT gen_random_uuid() AS id, bs.receps[r] AS cashier_id, bp.today - d AS day, d, r,
              CASE WHEN d = 0 OR (d = 3 AND r = 2) THEN 'open' WHEN d = 1 THEN 'handed_over' ELSE 'acknowledged' END
                  AS status
       FROM bp, bs, generate_series(0, bp.days - 1) d, generate_series(1, 3) r WHERE (d + r) % 3 <> 0""",
    """INSERT INTO cashier_session (id, created_at, estate_id, cashier_id, day, status, expected, counted_cash, difference,
                                   note, handed_over_at, acknowledged_at, acknowledged_by, flagged_late_at,
                                   acknowledge_note)
       SELECT c.id, (c.day + time '08:00') AT TIME ZONE bp.tz, bp.estate_id, c.cashier_id, c.day, c.status, '{}'::jsonb,
              NULL, NULL, '', CASE WHEN c.status <> 'open' THEN (c.day + time '16:40') AT TIME ZONE bp.tz
                                   + c.r * interval '5 minutes' END,
              CASE WHEN c.status = 'acknowledged' THEN (c.day + 1 + time '10:00') AT TIME ZONE bp.tz END,
              CASE WHEN c.status = 'acknowledged' THEN bs.finance END,
              CASE WHEN c.status = 'open' AND c.d > 0 THEN (c.day + time '17:00') AT TIME ZONE bp.tz END, ''
       FROM bc c, bp, bs""",
    """CREATE TEMP TABLE bpay ON COMMIT DROP AS
       SELECT p.* FROM (
         SELECT gen_random_uuid() AS id, c.id AS session_id, c.cashier_id,
                ((c.day + time '08:30') AT TIME ZONE bp.tz) + random() * interval '8 hours' AS received_at,
                random() AS r_m, round((50 + random() * 2950)::numeric, 2) AS amount, random() AS r_unit,
                random() < 0.003 AS void
         FROM bp, bc c CROSS JOIN LATERAL generate_series(1, 6 + abs(hashtext(c.id::text)) % 25) k) p, bp
       WHERE p.received_at < bp.now - interval '1 minute'""",
    # Payments here settle no charge: all of it is kept on account (credit), which the constraints allow.
    """INSERT INTO payment (id, created_at, estate_id, unit_id, method, reference, amount, tendered, change_given, credit,
                           payer_name, cashier_id, cashier_session_id, received_at)
       SELECT p.id, p.received_at, bp.estate_id, bu.unit_id, m.method,
              CASE WHEN m.method = 'cash' THEN '' ELSE upper(left(md5(p.id::text), 20)) END, p.amount, NULL, NULL,
              p.amount, '', p.cashier_id, p.session_id, p.received_at
       FROM bpay p CROSS JOIN bp JOIN bu ON bu.n = 1 + floor(p.r_unit * (SELECT count(*) FROM bu))::int
       CROSS JOIN LATERAL (SELECT CASE WHEN p.r_m < 0.4 THEN 'cash' WHEN p.r_m < 0.7 THEN 'wechat'
              WHEN p.r_m < 0.85 THEN 'alipay' ELSE 'bank_card' END AS method) m""",
    # Gapless per estate, series and (estate-local) year, in the order they were issued.
    """INSERT INTO receipt (id, created_at, estate_id, series, year, seq, number, payment_id, refund_id, unit_id, amount,
                           status, issued_at, issued_by, cashier_session_id, void_reason, voided_at, voided_by)
       SELECT gen_random_uuid(), p.received_at, bp.estate_id, 'receipt', p.year, p.seq,
              bp.code || '-' || p.year || '-' || lpad(p.seq::text, 6, '0'), p.id, NULL, p.unit_id, p.amount,
              CASE WHEN p.void THEN 'void' ELSE 'issued' END, p.received_at, p.cashier_id, p.session_id,
              CASE WHEN p.void THEN '金额录入错误' ELSE '' END,
              CASE WHEN p.void THEN p.received_at + interval '10 minutes' END, CASE WHEN p.void THEN bs.supervisor END
       FROM bp, bs, (SELECT b.*, pay.unit_id, y.year, row_number() OVER (PARTITION BY y.year
                            ORDER BY b.received_at, b.id)::int AS seq
                     FROM bpay b JOIN payment pay ON pay.id = b.id, bp
                     CROSS JOIN LATERAL (SELECT extract(year FROM b.received_at AT TIME ZONE bp.tz)::int AS year) y) p""",
    """INSERT INTO document_counter (estate_id, series, year, last_seq)
       SELECT bp.estate_id, 'receipt', r.year, max(r.seq) FROM receipt r, bp WHERE r.estate_id = bp.estate_id
       GROUP BY bp.estate_id, r.year""",
    # What hand-over fixed: the takings per method of the session's receipts not voided; counted = expected.
    """UPDATE cashier_session s SET expected = t.expected, counted_cash = t.cash, difference = 0
       FROM (SELECT x.session_id, jsonb_object_agg(x.method, x.total::text) AS expected,
                    coalesce(sum(x.total) FILTER (WHERE x.method = 'cash'), 0) AS cash
             FROM (SELECT p.cashier_session_id AS session_id, p.method, sum(p.amount) AS total
                   FROM payment p JOIN receipt r ON r.payment_id = p.id, bp
                   WHERE p.estate_id = bp.estate_id AND r.status = 'issued' GROUP BY 1, 2) x GROUP BY x.session_id) t
       WHERE s.id = t.session_id AND s.status <> 'open'""",
]

TABLES = ["unit", "owner", "unit_owner", "owner_phone", "service_request", "work_order", "callback", "reply_promise",
          "cashier_session", "payment", "receipt", "approval_batch", "approval_line", "voucher_manifest"]

SUMMARY = """
SELECT 'work orders by status', string_agg(status || ' ' || n, ', ' ORDER BY n DESC) FROM
  (SELECT status, count(*) n FROM work_order WHERE estate_id = (SELECT estate_id FROM bp) GROUP BY status) x
UNION ALL SELECT 'callbacks by status', string_agg(status || ' ' || n, ', ' ORDER BY n DESC) FROM
  (SELECT status, count(*) n FROM callback WHERE estate_id = (SELECT estate_id FROM bp) GROUP BY status) x
UNION ALL SELECT 'reply promises open/all', count(*) FILTER (WHERE closed_at IS NULL) || '/' || count(*)
  FROM reply_promise WHERE estate_id = (SELECT estate_id FROM bp)
UNION ALL SELECT 'cashier sessions/receipts',
  (SELECT count(*) FROM cashier_session WHERE estate_id = (SELECT estate_id FROM bp))
  || '/' || (SELECT count(*) FROM receipt WHERE estate_id = (SELECT estate_id FROM bp))
UNION ALL SELECT 'approval batches/lines pending',
  (SELECT count(*) FROM approval_batch WHERE estate_id = (SELECT estate_id FROM bp))
  || '/' || (SELECT count(*) FROM approval_line WHERE estate_id = (SELECT estate_id FROM bp) AND decision = 'pending')
UNION ALL SELECT 'voucher manifests open/all', count(*) FILTER (WHERE acknowledged_at IS NULL) || '/' || count(*)
  FROM voucher_manifest WHERE estate_id = (SELECT estate_id FROM bp)
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--code", default="BN", help="the new estate's code; its logins are <code>.reception1 ...")
    p.add_argument("--units", type=int, default=5000, help="units, in buildings of 100")
    p.add_argument("--orders", type=int, default=10_000, help="service requests over the history")
    p.add_argument("--days", type=int, default=365, help="days of history")
    p.add_argument("--password", default="propdesk-bench", help="the password of every login it makes")
    p.add_argument("--tz", default="Asia/Shanghai", help="the estate's time zone")
    p.add_argument("--seed", type=float, default=0.42, help="setseed() value, -1..1: the same data for the same now")
    return p.parse_args(argv)


def staff_rows(args: argparse.Namespace) -> list[dict]:
    digest = hash_password(args.password)  # one argon2 hash shared by all: hashing is the slow part
    return [{"id": uuid.uuid4(), "role": role, "n": n, "suffix": suffix, "label": str(n) if count > 1 else "",
             "hash": digest} for suffix, role, count in STAFF for n in range(1, count + 1)]


async def run(conn: AsyncConnection, label: str, statements: list[str]) -> None:
    started = time.perf_counter()
    rows = 0
    for sql in statements:
        result = await conn.exec_driver_sql(sql)
        rows += max(result.rowcount or 0, 0)
    print(f"  {label:<28} {rows:>8} rows {time.perf_counter() - started:6.1f} s", flush=True)


async def generate(conn: AsyncConnection, args: argparse.Namespace) -> None:
    taken = await conn.execute(text("SELECT count(*) FROM estate WHERE code = :code"), {"code": args.code})
    if taken.scalar_one():
        raise SystemExit(f"an estate with code {args.code!r} exists already; use a fresh data directory or --code")
    now = datetime.now(UTC)
    await conn.execute(text("SELECT setseed(:seed)"), {"seed": args.seed})
    await conn.execute(text(PARAMS), {
        "company_id": uuid.uuid4(), "estate_id": uuid.uuid4(), "now": now, "tz": args.tz, "code": args.code,
        "buildings": max(1, args.units // 100), "orders": args.orders, "days": args.days})
    await run(conn, "company and estate", ESTATE)
    await conn.exec_driver_sql("CREATE TEMP TABLE bench_staff (id uuid, role text, n int, suffix text, label text, "
                               "hash text) ON COMMIT DROP")
    await conn.execute(text("INSERT INTO bench_staff VALUES (:id, :role, :n, :suffix, :label, :hash)"), staff_rows(args))
    await run(conn, "staff", STAFF_ROWS)
    await run(conn, "buildings, units, owners", ROSTER)
    await run(conn, "plan of the year's requests", PLAN)
    await run(conn, "requests, orders, callbacks", REPAIRS)
    await run(conn, "cashier sessions, receipts", CASH)
    for label, value in (await conn.exec_driver_sql(SUMMARY)).all():
        print(f"  {label}: {value}")


async def main_async(args: argparse.Namespace) -> None:
    url = await _prepare(_settings())
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)  # checkfirst: only what the migrations lack
        started = time.perf_counter()
        async with engine.begin() as conn:
            await generate(conn, args)
        print(f"committed in {time.perf_counter() - started:.1f} s")
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            # Autovacuum would get there too; the benchmark should not depend on when it does.
            await conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{t}"' for t in TABLES))
    finally:
        await engine.dispose()
    code = args.code.lower()
    print(f"logins (password {args.password!r}): {code}.reception1..3, {code}.tech1..8, {code}.supervisor, "
          f"{code}.director, {code}.finance, {code}.records, {code}.manager1..4")


def main() -> None:
    args = parse_args()
    _migrate(asyncio.run(_prepare(_settings())))
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
