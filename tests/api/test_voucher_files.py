"""Voucher uploads: type read from the bytes, size capped, files only when the rows commit."""
from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.files import Upload
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.owner_codes import CodePolicy
from app.domain.repairs.vouchers import service
from app.domain.repairs.vouchers.model import Voucher, VoucherFile
from app.domain.repairs.vouchers.schemas import VoucherCreate
from tests import images
from tests.factories import make_staff
from tests.helpers.vouchers import API, PDF, body, nothing_written, post, posted, scene, stored_files
from tests.images import JPEG, PNG
from tests.registry_factories import count_rows
from tests.repairs_factories import make_order

S = WorkOrderStatus


def confirmed() -> dict:
    # These posts are refused for their files, before the code is looked at.
    return body(owner_confirmation={"name": "王建國", "code": "123456"})


class TestUploadChecks:
    async def test_fake_jpg_that_is_text_refused(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        for files in ({"photos": ("leak.jpg", b"just some text, honest", "image/jpeg")},
                      {"photos": ("scan.pdf", PDF, "application/pdf")},  # a PDF is no photo
                      {"signature": ("sig.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png")},
                      {"photos": ("empty.jpg", b"", "image/jpeg")}):
            r = await post(client, order, sc.tech, confirmed(), files)
            assert r.status_code == 422, (files, r.text)
            assert r.json()["type"] in ("/problems/unsupported-file-type", "/problems/empty-file"), r.text
        await nothing_written(session, order.id, settings, status=S.in_progress)

    async def test_oversize_refused(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        settings.max_upload_bytes = 1000  # the app reads its settings per request
        big = JPEG + b"\x00" * 1000
        r = await post(client, order, sc.tech, confirmed(), [("photos", ("ok.jpg", JPEG)), ("photos", ("big.jpg", big))])
        assert r.status_code == 422 and r.json()["type"] == "/problems/file-too-large", r.text
        assert r.json()["field"] == "photos.1"
        await nothing_written(session, order.id, settings, status=S.in_progress)

    async def test_scanned_pdf_signature_accepted_names_sanitised(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        files = [("signature", ("../../etc/簽名.pdf", PDF, "image/jpeg")), ("photos", ("..\\x.png", PNG, "application/pdf"))]
        r = await post(client, order, sc.tech, body(owner_confirmation={"name": "王建國"}), files)
        assert r.status_code == 201, r.text
        got = [(f["kind"], f["content_type"], f["original_filename"], f["sha256"]) for f in r.json()["files"]]
        [png_on_disk] = [p for p in stored_files(settings) if p.suffix == ".png"]
        # The PDF is kept as it came; the photo is stored re-encoded, hashed as stored.
        assert got == [("signature", "application/pdf", "簽名.pdf", hashlib.sha256(PDF).hexdigest()),
                       ("photo", "image/png", "x.png", hashlib.sha256(png_on_disk.read_bytes()).hexdigest())]
        assert sorted(p.suffix for p in stored_files(settings)) == [".pdf", ".png"]
        assert images.same_picture(png_on_disk.read_bytes(), PNG)
        assert all(settings.upload_dir in p.parents for p in stored_files(settings))


class TestImagesAreDecoded:
    @pytest.mark.parametrize(("files", "field"), [
        ({"photos": ("sig.png", b"\x89PNG\r\n\x1a\n", "image/png")}, "photos.0"),  # the eight magic bytes, nothing more
        ([("photos", ("ok.jpg", JPEG)), ("photos", ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x11" * 200))], "photos.1"),
        ({"signature": ("sig.png", b"\x89PNG\r\n\x1a\n" + b"<?php system($_GET[c]); ?>", "image/png")}, "signature"),
    ])
    async def test_what_does_not_decode_is_refused_and_nothing_written(self, client, session, settings, files, field):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        r = await post(client, order, sc.tech, body(owner_confirmation={"name": "王建國"}), files)
        assert r.status_code == 422, r.text
        assert (r.json()["type"], r.json()["field"]) == ("/problems/unreadable-image", field)
        await nothing_written(session, order.id, settings, status=S.in_progress)

    async def test_decompression_bomb_is_422_not_500(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        for width in (10_000, 100_000):
            r = await post(client, order, sc.tech, confirmed(), {"photos": ("b.png", images.bomb_png(width, width))})
            assert r.status_code == 422, r.text
            assert (r.json()["type"], r.json()["field"]) == ("/problems/image-too-large", "photos.0")
        await nothing_written(session, order.id, settings, status=S.in_progress)

    async def test_gps_and_camera_are_stripped_the_photo_turned_upright(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        sent = images.picture("JPEG", size=(40, 20), exif=images.spy_exif(orientation=6))
        signature = images.picture("PNG", size=(30, 10), exif=images.spy_exif())
        r = await post(client, order, sc.tech, body(owner_confirmation={"name": "王建國"}),
                       [("signature", ("s.png", signature)), ("photos", ("p.jpg", sent))])
        assert r.status_code == 201, r.text
        v = r.json()
        for f, fmt, size in zip(v["files"], ("PNG", "JPEG"), ((30, 10), (20, 40)), strict=True):
            got = await client.get(f"{API}/vouchers/{v['id']}/files/{f['id']}", headers=sc.desk.headers)
            stored = images.decoded(got.content)
            assert (stored.format, stored.size, dict(stored.getexif())) == (fmt, size, {})
            assert images.SPY.encode() not in got.content and f["sha256"] == hashlib.sha256(got.content).hexdigest()
            assert f["size_bytes"] == len(got.content)
        assert not [p for p in stored_files(settings) if images.SPY.encode() in p.read_bytes()]


class TestDownload:
    async def test_stream_with_sniffed_type(self, client, session, settings):
        sc = await scene(session)
        _, v = await posted(client, session, sc)
        f = v["files"][0]
        url = f"{API}/vouchers/{v['id']}/files/{f['id']}"
        assert (await client.get(url)).status_code == 401
        finance = await make_staff(session, estates=[sc.estate], roles=[Role.finance])
        assert (await client.get(url, headers=finance.headers)).status_code == 403
        outsider = await make_staff(session, estates=[sc.other], roles=[Role.admin])
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
        other_tech = await make_staff(session, estates=[sc.estate], roles=[Role.technician])
        assert (await client.get(url, headers=other_tech.headers)).status_code == 404
        for staff in (sc.desk, sc.tech):
            r = await client.get(url, headers=staff.headers)
            assert r.status_code == 200 and images.same_picture(r.content, JPEG)
            assert r.headers["content-type"] == "image/jpeg" and r.headers["x-content-type-options"] == "nosniff"
        r = await client.get(f"{API}/vouchers/{v['id']}/files/{uuid.uuid4()}", headers=sc.desk.headers)
        assert r.status_code == 404 and r.json()["type"] == "/problems/voucher-file-not-found"

    async def test_file_of_another_voucher_404(self, client, session, settings):
        sc = await scene(session)
        _, a = await posted(client, session, sc)
        _, b = await posted(client, session, sc)
        r = await client.get(f"{API}/vouchers/{a['id']}/files/{b['files'][0]['id']}", headers=sc.desk.headers)
        assert r.status_code == 404


class TestAddPhotos:
    async def test_within_24h_own_voucher(self, client, session, settings):
        sc = await scene(session)
        _, v = await posted(client, session, sc)
        url = f"{API}/vouchers/{v['id']}/files"
        photo = {"photos": ("later.png", PNG, "image/png")}
        assert (await client.post(url, files=photo)).status_code == 401
        assert (await client.post(url, files=photo, headers=sc.desk.headers)).status_code == 403
        other_tech = await make_staff(session, estates=[sc.estate], roles=[Role.technician])
        assert (await client.post(url, files=photo, headers=other_tech.headers)).status_code == 404
        outsider = await make_staff(session, estates=[sc.other], roles=[Role.technician])
        assert (await client.post(url, files=photo, headers=outsider.headers)).status_code == 404
        r = await client.post(url, files={"photos": ("t.jpg", b"text", "image/jpeg")}, headers=sc.tech.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/unsupported-file-type"
        assert len(stored_files(settings)) == 1
        r = await client.post(url, files=photo, headers=sc.tech.headers)
        assert r.status_code == 201, r.text
        assert [f["original_filename"] for f in r.json()["files"]] == ["a.jpg", "later.png"]
        assert len(stored_files(settings)) == 2

    async def test_at_most_ten_photos(self, client, session, settings):
        sc = await scene(session)
        _, v = await posted(client, session, sc)
        r = await client.post(f"{API}/vouchers/{v['id']}/files", files=[("photos", (f"{i}.jpg", JPEG)) for i in range(10)],
                              headers=sc.tech.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/too-many-photos"
        assert await count_rows(session, VoucherFile) == 1 and len(stored_files(settings)) == 1

    async def test_after_24h_409(self, client, session, settings):
        sc = await scene(session)
        _, v = await posted(client, session, sc)
        await session.execute(update(Voucher).values(posted_at=Voucher.posted_at - timedelta(hours=24, minutes=1)))
        await session.commit()
        r = await client.post(f"{API}/vouchers/{v['id']}/files", files={"photos": ("p.png", PNG)}, headers=sc.tech.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/photos-window-closed"
        assert len(stored_files(settings)) == 1


class TestFilesFollowTheTransaction:
    async def test_rollback_removes_written_files_commit_keeps_them(self, session, settings):
        sc = await scene(session)
        actor = Actor(id=sc.tech.id, label="張師傅", company_id=sc.estate.company_id, roles=frozenset({Role.technician}),
                      estate_ids=frozenset({sc.estate.id}))
        order = await make_order(session, estate=sc.estate, technician=sc.tech.user, status=S.in_progress, is_public_area=True)
        order_id = order.id
        data = VoucherCreate.model_validate(body())

        async def post_direct():
            return await service.post_voucher(session, actor=actor, order_id=order_id, data=data, signature=None,
                                              photos=[Upload(JPEG, "a.jpg"), Upload(PNG, "b.png")],
                                              upload_dir=settings.upload_dir, max_upload_bytes=10_000,
                                              code_policy=CodePolicy(key=settings.secret, valid_for=timedelta(hours=1), max_attempts=5))

        await post_direct()
        assert len(stored_files(settings)) == 2  # written before the commit...
        await session.rollback()
        assert stored_files(settings) == []  # ...and gone with the rollback
        assert await count_rows(session, Voucher) == 0
        await post_direct()
        await session.commit()
        assert len(stored_files(settings)) == 2
        assert (await session.get(WorkOrder, order_id)).status == S.completed
