"""A technician's day without signal, over HTTP as his phone plays it.

Morning: the app takes its snapshot. Then the signal goes; meanwhile the desk gives one of his
orders to a colleague. He does two jobs offline: the app queues each start, voucher (with a
signature and photos) and note for the callback, with its Idempotency-Key and the phone's
time. Back in signal, the app replays the queue in order, one voucher twice (its answer was
lost); the desk sees both completions with their device times; the reassigned job is refused
with the conflict; the next sync forgets what left his hands.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.base import utcnow
from app.domain.repairs.vouchers.model import Voucher, VoucherFile
from tests.helpers.dispatch import local, window
from tests.helpers.problems import assert_problem
from tests.helpers.sync import API, ids, queued, sync, technician_round, tombstones, voucher_form
from tests.images import JPEG, picture
from tests.registry_factories import count_rows

PNG = picture("PNG")


@dataclass
class Queued:
    """One action the app kept while offline."""

    path: str
    key: str
    at: datetime
    form: dict | None = None
    json: dict | None = None
    files: list | None = None


def day_of_work(orders, start: datetime) -> list[Queued]:
    """Per job: start, voucher with the owner's signature and two photos, a note for the callback."""
    queue = []
    for n, order in enumerate(orders):
        t = start + timedelta(hours=n)
        queue += [
            Queued(f"work-orders/{order.id}/start", f"start-{order.id}", t),
            Queued(f"work-orders/{order.id}/voucher", f"voucher-{order.id}", t + timedelta(minutes=40),
                   form=voucher_form(owner_confirmation={"name": "業主"}),
                   files=[("signature", ("sign.png", PNG)), ("photos", ("before.jpg", JPEG)), ("photos", ("after.jpg", JPEG))]),
            Queued(f"work-orders/{order.id}/notes", f"note-{order.id}", t + timedelta(minutes=45),
                   json={"text": "業主下週出差，回訪請打晚上"}),
        ]
    return queue


async def replay(client, tech, action: Queued):
    return await client.post(f"{API}/{action.path}", headers=queued(tech, action.key, action.at), data=action.form,
                             json=action.json, files=action.files)


async def test_a_day_offline(client, session):
    w = await technician_round(session)
    done_offline, taken = w.orders[:2], w.orders[2]

    # 08:00, in the office car park: the snapshot.
    morning = await sync(client, w.tech)
    assert ids(morning["orders"]) == {str(o.id) for o in w.orders}

    # Offline. The desk hands one of his jobs to a colleague.
    r = await client.post(f"{API}/work-orders/{taken.id}/reassign", headers=w.desk.headers,
                          json=window(local(9), local(10), technician_id=str(w.rival.id)))
    assert r.status_code == 200, r.text

    # He works through his copy: both jobs, and he starts on the third as well.
    started = utcnow() - timedelta(hours=4)
    queue = day_of_work(done_offline, started) + [Queued(f"work-orders/{taken.id}/start", f"start-{taken.id}",
                                                          started + timedelta(hours=3))]

    # Signal again: the queue goes out in order; the first voucher's answer is lost, so it goes twice.
    answers = []
    for action in queue:
        answers.append(await replay(client, w.tech, action))
        if action.key == f"voucher-{done_offline[0].id}":
            again = await replay(client, w.tech, action)
            assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
            assert again.json()["id"] == answers[-1].json()["id"]
    assert [a.status_code for a in answers] == [200, 201, 201, 200, 201, 201, 409], [a.text for a in answers]
    refusal = assert_problem(answers[-1], 409, "order-reassigned")
    assert (refusal["order_number"], refusal["how"], refusal["now_with"]) == (taken.number, "reassigned", "technician")
    assert "劉師傅" not in answers[-1].text
    assert await count_rows(session, Voucher) == 2 and await count_rows(session, VoucherFile) == 6

    # The desk sees both completions, each with the phone's time beside the server's.
    for n, order in enumerate(done_offline):
        finished = started + timedelta(hours=n, minutes=40)
        detail = (await client.get(f"{API}/work-orders/{order.id}", headers=w.desk.headers)).json()
        assert detail["status"] == "completed"
        assert datetime.fromisoformat(detail["started_on_device_at"]) == started + timedelta(hours=n)
        assert datetime.fromisoformat(detail["completed_on_device_at"]) == finished
        assert datetime.fromisoformat(detail["completed_at"]) > finished
        (voucher,) = (await client.get(f"{API}/work-orders/{order.id}/vouchers", headers=w.desk.headers)).json()["items"]
        assert datetime.fromisoformat(voucher["posted_on_device_at"]) == finished and len(voucher["files"]) == 3
        (note,) = (await client.get(f"{API}/work-orders/{order.id}/notes", headers=w.desk.headers)).json()
        assert datetime.fromisoformat(note["noted_on_device_at"]) == finished + timedelta(minutes=5)
    # The colleague's job was not touched by the late start.
    detail = (await client.get(f"{API}/work-orders/{taken.id}", headers=w.desk.headers)).json()
    assert (detail["status"], detail["technician_id"], detail["started_at"]) == ("dispatched", str(w.rival.id), None)

    # The next sync: the reassigned job and the two done leave his copy, with the units and owners
    # they brought; the valve cores he used are fewer in the store.
    evening = await sync(client, w.tech, morning["cursor"])
    assert tombstones(evening, "work_order") == {str(taken.id): "reassigned", **{str(o.id): "completed" for o in done_offline}}
    assert set(tombstones(evening, "unit")) == {str(u.id) for u in w.units[:3]}
    assert set(tombstones(evening, "owner")) == {str(o.id) for o in w.owners[:3]}
    assert evening["orders"] == []
    valve = next(s for s in evening["stock_items"] if s["name"] == "閥芯0")
    assert valve["quantity"] == "3.000"
