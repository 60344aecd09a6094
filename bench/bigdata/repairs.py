"""Three years of service requests: work orders walked as far as their age allows, vouchers,
callbacks (some late, some with a problem for the CS director), weekly approvals and the
monthly voucher manifests, all consistent with the work order and callback transition tables.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.demo.repairs import ENQUIRIES, JOBS, PUBLIC_JOBS
from bench.bigdata.plan import Estate
from bench.bigdata.rows import NULL, flag, money, opt, ts

CHANNELS = ["phone"] * 6 + ["walk_in"] * 2 + ["manager_patrol", "technician_patrol"]
PUBLIC_CHANNELS = ["manager_patrol", "technician_patrol", "phone"]
PROBLEM = "维修后仍有渗水"


class _Numbers:
    """Readable numbers per series and local year, in the order the rows are made (day by day, so the
    years never step back), and the counters where they stop."""

    def __init__(self, e: Estate) -> None:
        self.e, self.last = e, {"service_request": {}, "work_order": {}}

    def next(self, series: str, at: datetime) -> str:
        seq = self.last[series][at.year] = self.last[series].get(at.year, 0) + 1
        letters = "BX" if series == "service_request" else "WX"
        return f"{self.e.code}-{letters}-{at.year}-{seq:06d}"

    def counters(self) -> None:
        for series, years in self.last.items():
            for year, seq in sorted(years.items()):
                self.e.rows.add("document_counter", self.e.id, series, str(year), str(seq))


class _Approvals:
    """The weekly batches and monthly manifests, made on first use."""

    def __init__(self, e: Estate) -> None:
        self.e, self.batches, self.manifests = e, {}, {}
        self.numbers = _Numbers(e)

    def batch(self, monday: date, built: datetime) -> str:
        iso = monday.isocalendar()
        week = f"{iso[0]}-W{iso[1]:02d}"
        if week not in self.batches:
            self.batches[week] = self.e.id_of()
            self.e.rows.add("approval_batch", self.batches[week], ts(built), self.e.id, week, ts(built), NULL)
        return self.batches[week]

    def manifest(self, month_start: date, public: bool, j: int) -> tuple[str, datetime | None]:
        """(id, acknowledged at or None) of the month's manifest, built on the 1st of the next month."""
        key = (month_start, public, None if public else j)
        if key not in self.manifests:
            e = self.e
            nxt = (month_start + timedelta(days=32)).replace(day=1)
            built = datetime.combine(nxt, time(9, 0))
            ack: datetime | None = built + timedelta(hours=2 + e.rng.random() * 60)
            ack = ack if ack <= e.now else None
            recipient = NULL if public else e.users("manager")[j]
            mid = e.id_of()
            e.rows.add("voucher_manifest", mid, ts(built), e.id, f"{month_start:%Y-%m}",
                       "public_area" if public else "jurisdiction", NULL if public else e.jurisdictions[j], recipient,
                       ts(built), ts(ack), NULL if ack is None else (e.staff["records"] if public else recipient))
            self.manifests[key] = (mid, ack)
        return self.manifests[key]


def requests(e: Estate, count: int) -> None:
    rng, approvals = e.rng, _Approvals(e)
    span = (e.now - e.start).total_seconds() / 86400
    for n in range(count):
        d = e.start.date() + timedelta(days=int(span * (n + rng.random()) / count))
        created = min(datetime.combine(d, time(8)) + timedelta(minutes=rng.random() * 600),
                      e.now - timedelta(minutes=5 + rng.random() * 60))
        _request(e, approvals, created)
    approvals.numbers.counters()


def _request(e: Estate, approvals: _Approvals, created: datetime) -> None:
    rng, rows = e.rng, e.rows
    rid, recep = e.id_of(), e.users("reception")[rng.randrange(3)]
    roll = rng.random()
    if roll < 0.08:
        rows.add("service_request", rid, ts(created), e.id, "enquiry", "phone", "normal", "other",
                 ENQUIRIES[rng.randrange(len(ENQUIRIES))], NULL, NULL, "f", "", "", "", NULL, NULL, recep, recep,
                 "closed_at_desk", "已电话答复", ts(created + timedelta(minutes=3)),
                 approvals.numbers.next("service_request", created))
        return
    public = roll < 0.17
    if public:
        unit_id, building_id, building_name, j = e.public_units[rng.randrange(len(e.public_units))]
        category, text = PUBLIC_JOBS[rng.randrange(len(PUBLIC_JOBS))]
        minutes, amount, owner = 45, None, None
        channel = PUBLIC_CHANNELS[rng.randrange(3)]
    else:
        unit = e.private_units[rng.randrange(len(e.private_units))]
        unit_id, (building_id, j) = unit[0], e.unit_building[unit[0]]
        category, text, minutes, amount = JOBS[rng.randrange(len(JOBS))]
        owner = e.owners[unit[4]]
        channel = CHANNELS[rng.randrange(len(CHANNELS))]
    reporter = recep if channel in ("phone", "walk_in") else (
        e.users("manager")[j] if channel == "manager_patrol" else e.users("tech")[rng.randrange(10)])
    urgency = "emergency" if roll > 0.995 else "urgent" if roll > 0.93 else "normal"
    rows.add("service_request", rid, ts(created), e.id, "repair", channel, urgency, category, text, unit_id,
             owner[0] if owner else NULL, flag(public), f"{building_name}电梯厅" if public else "",
             owner[3] if owner else "", owner[2] if owner else "", NULL, NULL, reporter, recep, "ordered", "", NULL,
             approvals.numbers.next("service_request", created))
    order = dict(id=e.id_of(), rid=rid, created=created, category=category, unit_id=unit_id, building_id=building_id,
                 public=public, j=j, minutes=minutes + rng.randrange(-10, 30), amount=amount, owner=owner, text=text,
                 tech=e.users("tech")[rng.randrange(10)], recep=recep)
    _order(e, approvals, order)


def _order(e: Estate, approvals: _Approvals, o: dict) -> None:
    rng, now = e.rng, e.now
    created = o["created"]
    dispatched = created + timedelta(minutes=10 + rng.random() * 50)
    wait = timedelta(hours=1 + rng.random() * 3) if rng.random() < 0.7 else timedelta(hours=16 + rng.random() * 10)
    start = dispatched + wait
    completed = start + timedelta(minutes=max(15, o["minutes"]))
    cancelled = rng.random() < 0.02 and created + timedelta(minutes=30) <= now
    awaiting = not cancelled and created > now - timedelta(days=5) and rng.random() < 0.15
    stamps = dict(dispatched=None, accepted=None, started=None, completed=None, callback_done=None, approved=None,
                  archived=None, cancelled=None, tech=o["tech"], sched=None)
    if cancelled:
        status, stamps["tech"], stamps["cancelled"] = "cancelled", None, created + timedelta(minutes=30)
    elif awaiting:
        status = "awaiting_technician_confirmation"
        due = created + timedelta(hours=0.5 + rng.random() * 20)
        e.rows.add("reply_promise", e.id_of(), ts(created + timedelta(minutes=5)), e.id, o["id"], o["tech"], o["recep"],
                   ts(due), NULL, NULL, NULL, NULL, NULL, NULL, "", "open")
    elif now < dispatched:
        status, stamps["tech"] = "pending_dispatch", None
    else:
        stamps.update(dispatched=dispatched, sched=start - timedelta(minutes=10),
                      accepted=dispatched + timedelta(minutes=5) if dispatched + timedelta(minutes=5) <= now else None)
        if now < start:
            status = "dispatched"
        elif now < completed:
            status, stamps["started"] = "in_progress", start
        else:
            stamps.update(started=start, completed=completed)
            status = _completed(e, approvals, o, stamps)
    sched = stamps["sched"]
    e.rows.add("work_order", o["id"], ts(created), e.id, o["rid"], status, o["category"], o["unit_id"], o["building_id"],
               flag(o["public"]), opt(stamps["tech"]), ts(sched), ts(sched and sched + timedelta(hours=1)),
               ts(stamps["dispatched"]), ts(stamps["accepted"]), ts(stamps["started"]), ts(stamps["completed"]),
               ts(stamps["callback_done"]), ts(stamps["approved"]),
               e.staff["supervisor"] if stamps["approved"] else NULL, ts(stamps["archived"]), ts(stamps["cancelled"]),
               "业主已自行处理" if cancelled else "", "0", "", approvals.numbers.next("work_order", created))


def _completed(e: Estate, approvals: _Approvals, o: dict, stamps: dict) -> str:
    """The voucher, the callback and what followed it; returns the order's status now."""
    voucher = _voucher(e, o, stamps["completed"])
    closed = _callback(e, o, stamps["completed"])
    if closed is None:
        return "completed"
    stamps["callback_done"] = closed
    monday = closed.date() - timedelta(days=closed.weekday())
    built = datetime.combine(monday + timedelta(days=7), time(8, 0))
    if built > e.now:
        return "callback_done"
    batch = approvals.batch(monday, built)
    pending = built > e.now - timedelta(days=7)
    approved = None if pending else built + timedelta(hours=1 + e.rng.random() * 29)
    e.rows.add("approval_line", e.id_of(), ts(built), e.id, batch, o["id"], "pending" if pending else "approved", "",
               NULL if pending else e.staff["supervisor"], ts(approved))
    if approved is None:
        return "callback_done"
    stamps["approved"] = approved
    month_start = approved.date().replace(day=1)
    if datetime.combine((month_start + timedelta(days=32)).replace(day=1), time(9)) > e.now:
        return "approved"
    manifest, ack = approvals.manifest(month_start, o["public"], o["j"])
    built_at = datetime.combine((month_start + timedelta(days=32)).replace(day=1), time(9))
    e.rows.add("manifest_line", e.id_of(), ts(built_at), e.id, manifest, voucher, o["id"])
    if ack is None:
        return "approved"
    stamps["archived"] = ack
    return "archived"


def _voucher(e: Estate, o: dict, completed: datetime) -> str:
    rng = e.rng
    vid = e.id_of()
    chargeable = o["amount"] is not None and rng.random() < 0.35
    fen = int(o["amount"].replace(".", "")) if chargeable else 0
    owner = o["owner"]
    by = "none" if o["public"] else ("signature" if rng.random() < 0.7 else "code")
    e.rows.add("voucher", vid, ts(completed), e.id, o["id"], "1", o["tech"], f"已处理：{o['text']}",
               str(max(15, o["minutes"])), flag(chargeable), money(fen), flag(o["public"]),
               owner[3] if owner else "", by, ts(completed))
    if chargeable:
        e.extra_charges.append((o["unit_id"], completed.date(), completed, fen, vid, f"维修费：{o['text']}"))
    if rng.random() < 0.35:
        e.draws.append((completed, vid, o["id"], o["tech"]))
    return vid


def _callback(e: Estate, o: dict, completed: datetime) -> datetime | None:
    """Round 1's callback; returns when it was closed (done, or resolved by the director), or None."""
    rng, now, recep = e.rng, e.now, o["recep"]
    due = datetime.combine(completed.date() + timedelta(days=7), time(23, 59, 59))
    roll = rng.random()
    late, problem = roll < 0.08, 0.08 <= roll < 0.10
    rung = completed + timedelta(days=(8.05 + rng.random() * 6) if late else (0.2 + rng.random() ** 2 * 6.4))
    cid = e.id_of()
    attempt = rung - timedelta(hours=2 + rng.random() * 20) if rng.random() < 0.12 else None
    if attempt is not None and (attempt <= completed or attempt > now):
        attempt = None
    if attempt is not None:
        e.rows.add("callback_attempt", e.id_of(), ts(attempt), e.id, cid, ts(attempt), recep, "no_answer", "无人接听",
                   NULL)
    closed = status = outcome = score = escalated = resolved = None
    if rung > now:
        status = "open"
    elif problem:
        escalated, outcome = rung, "problem"
        plan = rung + timedelta(days=1 + rng.random() ** 3 * 60)
        status, resolved = ("resolved", plan) if plan <= now else ("escalated", None)
        closed = resolved
    else:
        status, outcome, score, closed = "done", "satisfied", str(3 + rng.randrange(3)), rung
    done = status != "open"
    flagged = due + timedelta(hours=9)
    e.rows.add("callback", cid, ts(completed), e.id, o["id"], "1", o["tech"], ts(completed), ts(due), status,
               ts(rung if done else None), recep if done else NULL,
               ts(flagged if flagged < (rung if done else now) else None), opt(outcome), opt(score),
               PROBLEM if problem and done else "", ts(escalated), "已致电业主并安排复查" if resolved else "",
               flag(False) if resolved else NULL, ts(resolved), e.staff["director"] if resolved else NULL,
               "1" if attempt else "0", ts(attempt), "no_answer" if attempt else NULL, NULL)
    return closed
