"""The company, its estates, staff, buildings, units, owners and their phones."""
from __future__ import annotations

from datetime import datetime, timedelta

from bench.bigdata.plan import STAFF, Estate
from bench.bigdata.rows import NULL, Rows, flag, ts

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
         "平", "刚", "桂英", "建华", "志强", "海燕", "晓东", "玉兰", "国庆", "春梅", "德明"]
AREAS = [6850, 8920, 9600, 11270, 12830, 14390]  # m² × 100
ROLE_NAMES = {"reception": "前台", "tech": "维修工", "supervisor": "主管", "director": "客服总监", "finance": "财务",
              "records": "档案员", "manager": "片区经理"}
ESTATE_NAMES = list("翠华锦绣龙湖金桂碧水兰亭御景枫林海棠紫荆")
PER_BUILDING = 100  # private flats: 2 entrances, 2 flats a floor, 25 floors


def company(rows: Rows, *, company_id: str, admin_id: str, password_hash: str, now: datetime) -> None:
    rows.add("company", company_id, ts(now - timedelta(days=4 * 365)), "基准物业集团")
    rows.add("user", admin_id, ts(now - timedelta(days=3 * 365)), company_id, "bench.admin", "基准管理员", NULL,
             "{admin}", password_hash, "t")


def estate(e: Estate, *, password_hash: str, admin_id: str, units: int) -> None:
    rows, created = e.rows, ts(e.start - timedelta(days=400))
    name = ESTATE_NAMES[e.no % len(ESTATE_NAMES)] + ESTATE_NAMES[(e.no // len(ESTATE_NAMES) + 3) % len(ESTATE_NAMES)]
    rows.add("estate", e.id, created, f"{name}苑{e.no + 1}期", f"{name}苑{e.no + 1}期管理处", e.code, "Asia/Shanghai",
             e.company_id, "08:00", "12:00", "14:00", "18:00", "simplified")
    rows.add("user_estate", admin_id, e.id)
    for suffix, role, count in STAFF:
        for n in range(1, count + 1):
            label = f"{suffix}{n}" if count > 1 else suffix
            uid = e.staff[label] = e.id_of()
            rows.add("user", uid, created, e.company_id, f"{e.code.lower()}.{label}",
                     f"{ROLE_NAMES[suffix]}{n if count > 1 else ''}（{e.code}）", NULL, "{" + role + "}", password_hash,
                     "t")
            rows.add("user_estate", uid, e.id)
    for j, manager in enumerate(e.users("manager"), start=1):
        e.jurisdictions.append(e.id_of())
        rows.add("jurisdiction", e.jurisdictions[-1], created, e.id, f"{j}片区", manager)
    _buildings(e, units, created)


def _buildings(e: Estate, units: int, created: str) -> None:
    rng, rows = e.rng, e.rows
    buildings = max(1, round(units / (PER_BUILDING + 1)))
    private = units - buildings
    for b in range(buildings):
        bid, j = e.id_of(), b * len(e.jurisdictions) // buildings
        rows.add("building", bid, created, e.id, f"{b + 1}号楼", str(b + 1), e.jurisdictions[j])
        uid = e.id_of()
        rows.add("unit", uid, created, e.id, bid, "公共", "公共区域", NULL, "0.00", "t", "f", "")
        e.public_units.append((uid, bid, f"{b + 1}号楼", j))
        e.unit_building[uid] = (bid, j)
        share = private // buildings + (1 if b < private % buildings else 0)
        for k in range(share):
            floor, entrance = 1 + k // 4, 1 + (k % 4) // 2
            area, vacant = AREAS[(k * 3 + b) % len(AREAS)], rng.random() < 0.05
            uid = e.id_of()
            rows.add("unit", uid, created, e.id, bid, f"{entrance}单元", f"{floor}{k % 2 + 1:02d}", str(floor),
                     f"{area // 100}.{area % 100:02d}", "f", flag(vacant), "")
            e.unit_building[uid] = (bid, j)
            e.private_units.append((uid, b, area, vacant, len(e.private_units)))
            _owners(e, uid, created)


def _owners(e: Estate, unit_id: str, created: str) -> None:
    """The primary owner, a co-owner for about one flat in four (250,000 owners for 200,000 units)."""
    rng, rows = e.rng, e.rows
    n = len(e.private_units)
    for primary in (True, False):
        if not primary and rng.random() >= 0.263:
            break
        oid, surname = e.id_of(), SURNAMES[rng.randrange(len(SURNAMES))]
        female = rng.random() < 0.5
        full = surname + GIVEN[rng.randrange(len(GIVEN))]
        rows.add("owner", oid, created, e.id, full, surname, "女士" if female else "先生", "")
        rows.add("unit_owner", e.id_of(), created, e.id, unit_id, oid, flag(primary))
        phone = f"1{3 + (n + primary) % 6}{e.no % 1000:03d}{(n * 2 + (not primary)) % 1000000:06d}"
        phones = [phone] + ([f"19{e.no % 1000:03d}{(n * 2 + (not primary)) % 1000000:06d}"] if rng.random() < 0.2 else [])
        for p in phones:
            rows.add("owner_phone", e.id_of(), created, e.id, oid, p, f"{p[:3]}-{p[3:7]}-{p[7:]}")
        if primary:
            e.owners.append((oid, full + ("女士" if female else "先生"), phone, surname + ("女士" if female else "先生")))
