"""Storing uploads: the type from the bytes, the size cap, atomic writes, no escape from the directory."""
from __future__ import annotations

import hashlib
import io
import uuid
from datetime import date

import pytest

from app.domain import files
from app.domain.files import IMAGES, JPEG, PDF, PNG, SCANS, WEBP, Upload
from tests import images

JPEG_BYTES = b"\xff\xd8\xff\xdb" + b"\x00" * 20
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
WEBP_BYTES = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20
PDF_BYTES = b"%PDF-1.7\n" + b"\x00" * 20


class TestSniff:
    @pytest.mark.parametrize(("data", "kind"), [
        (JPEG_BYTES, JPEG), (PNG_BYTES, PNG), (WEBP_BYTES, WEBP), (PDF_BYTES, PDF),
        (b"hello, this is text pretending to be a jpg", None), (b"", None), (b"\xff\xd8", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),  # a RIFF that is sound, not WebP
        (b"GIF89a" + b"\x00" * 10, None), (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"PK\x03\x04", None), (b" %PDF-1.4", None),
    ])
    def test_magic_bytes(self, data, kind):
        assert files.sniff(data) == kind


class TestCheck:
    def test_ok_with_hash_and_clean_name(self):
        got = files.check(Upload(images.PNG, "C:\\Users\\王\\..\\簽名\x00.png"), max_bytes=1000, accepted=SCANS, field="signature")
        assert got.type == PNG and got.size == len(got.data) and got.sha256 == hashlib.sha256(got.data).hexdigest()
        assert got.original_filename == "簽名.png"

    def test_client_name_and_type_do_not_matter(self):
        with pytest.raises(files.UnsupportedFileType) as err:
            files.check(Upload(b"plain text", "photo.jpg"), max_bytes=100, accepted=IMAGES, field="photos.0")
        assert err.value.extra["field"] == "photos.0"

    def test_pdf_only_where_scans_are_accepted_and_kept_as_it_came(self):
        got = files.check(Upload(PDF_BYTES), max_bytes=100, accepted=SCANS, field="s")
        assert got.type == PDF and got.data == PDF_BYTES  # not parsed, not rewritten
        with pytest.raises(files.UnsupportedFileType):
            files.check(Upload(PDF_BYTES), max_bytes=100, accepted=IMAGES, field="p")

    def test_size_cap_is_inclusive(self):
        exact = images.JPEG.ljust(700, b"\x00")  # trailing bytes after the picture: still a JPEG
        assert files.check(Upload(exact), max_bytes=700, accepted=IMAGES, field="p").type == JPEG
        with pytest.raises(files.FileTooLarge):
            files.check(Upload(exact + b"\x00"), max_bytes=700, accepted=IMAGES, field="p")
        with pytest.raises(files.EmptyFile):
            files.check(Upload(b""), max_bytes=50, accepted=IMAGES, field="p")


class TestImagesDecode:
    @pytest.mark.parametrize("data", [JPEG_BYTES, PNG_BYTES, WEBP_BYTES, b"\x89PNG\r\n\x1a\n",
                                      images.JPEG[: len(images.JPEG) // 2],  # cut off half way
                                      images.PNG[:45],  # the pixels cut off half way
                                      b"\x89PNG\r\n\x1a\n" + images.JPEG])
    def test_magic_bytes_alone_are_no_image(self, data):
        with pytest.raises(files.UnreadableImage) as err:
            files.check(Upload(data), max_bytes=10_000, accepted=SCANS, field="photos.3")
        assert err.value.extra["field"] == "photos.3"

    @pytest.mark.parametrize(("fmt", "kind"), [("JPEG", JPEG), ("PNG", PNG), ("WEBP", WEBP)])
    def test_metadata_is_stripped_and_the_format_kept(self, fmt, kind):
        sent = images.picture(fmt, size=(40, 20), exif=images.spy_exif())
        assert images.SPY.encode() in sent
        got = files.check(Upload(sent), max_bytes=100_000, accepted=IMAGES, field="p")
        stored = images.decoded(got.data)
        assert got.type == kind and stored.format == fmt and stored.size == (40, 20)
        assert dict(stored.getexif()) == {} and images.SPY.encode() not in got.data
        assert images.same_picture(got.data, sent)

    def test_jpeg_comment_and_png_text_go_too(self):
        from PIL import PngImagePlugin

        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "家住8号楼2单元301")
        for sent in (images.picture("JPEG", comment="家住8号楼".encode()), images.picture("PNG", pnginfo=text)):
            got = files.check(Upload(sent), max_bytes=100_000, accepted=IMAGES, field="p")
            assert "家住8号楼".encode() not in got.data and "8号楼".encode() in sent

    @pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
    def test_orientation_is_applied_before_it_is_dropped(self, fmt):
        # Orientation 6: the camera was held on its side; viewers turn the picture 90°.
        sent = images.picture(fmt, size=(40, 20), exif=images.spy_exif(orientation=6))
        stored = images.decoded(files.check(Upload(sent), max_bytes=100_000, accepted=IMAGES, field="p").data)
        assert stored.size == (20, 40) and images.ORIENTATION not in stored.getexif()

    @pytest.mark.parametrize(("width", "height"), [(10_000, 10_000), (100_000, 100_000)])
    def test_decompression_bomb_is_refused(self, width, height):
        bomb = images.bomb_png(width, height)
        assert len(bomb) < 1000
        with pytest.raises(files.ImageTooLarge) as err:
            files.check(Upload(bomb), max_bytes=10_000, accepted=IMAGES, field="photos.0")
        assert err.value.extra["field"] == "photos.0"

    def test_animated_is_no_photo(self):
        from PIL import Image

        out = io.BytesIO()
        frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
        frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:])
        with pytest.raises(files.UnsupportedFileType):
            files.check(Upload(out.getvalue()), max_bytes=10_000, accepted=IMAGES, field="p")


class TestStore:
    def test_path_layout(self):
        estate = uuid.uuid4()
        rel = files.new_relative_path(estate_id=estate, day=date(2026, 3, 7), ext="jpg")
        parts = rel.split("/")
        assert parts[:3] == [str(estate), "2026", "03"] and parts[3].endswith(".jpg")
        uuid.UUID(parts[3].removesuffix(".jpg"))

    def test_write_all_leaves_no_temp_files(self, tmp_path):
        written = files.write_all(tmp_path, [("e/2026/03/a.jpg", JPEG_BYTES), ("e/2026/03/b.png", PNG_BYTES)])
        assert [p.read_bytes() for p in written] == [JPEG_BYTES, PNG_BYTES]
        assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.jpg", "b.png"]

    def test_write_all_is_all_or_nothing(self, tmp_path):
        (tmp_path / "e").mkdir()
        (tmp_path / "e" / "taken").write_bytes(b"a file where a directory must go")
        with pytest.raises(OSError):
            files.write_all(tmp_path, [("e/ok.jpg", JPEG_BYTES), ("e/taken/x.jpg", JPEG_BYTES)])
        assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["taken"]

    @pytest.mark.parametrize("rel", ["../outside.jpg", "/etc/passwd", "a/../../x.jpg"])
    def test_resolve_refuses_escape(self, tmp_path, rel):
        with pytest.raises(files.StoredFileMissing):
            files.resolve(tmp_path / "uploads", rel)
