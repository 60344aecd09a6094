"""Storing uploads (photos, signatures, scans) under the data directory.

The type is read from the file's first bytes; the client's filename and content type are
never trusted. An image must then decode as that type (eight magic bytes are not a photo),
and is stored re-encoded in its own format: upright as its EXIF orientation says, without
its metadata (EXIF with the phone's GPS position, XMP, comments). PDFs (scanned signatures)
are stored as they came: nothing here parses them. Files are written to a temporary name and renamed, so a reader never sees
half a file, and a service writes them only after its rows were flushed (see
`remove_on_rollback`) so that a refused request leaves nothing on disk.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.domain.errors import DomainError, Invalid, NotFound


@dataclass(frozen=True)
class FileType:
    content_type: str
    ext: str


JPEG = FileType("image/jpeg", "jpg")
PNG = FileType("image/png", "png")
WEBP = FileType("image/webp", "webp")
PDF = FileType("application/pdf", "pdf")
IMAGES = frozenset({JPEG, PNG, WEBP})
SCANS = IMAGES | {PDF}


class UnsupportedFileType(Invalid):
    title = "The file is not of an accepted type (JPEG, PNG, WebP; PDF for a scanned signature)"
    title_zh = "文件类型不被接受（JPEG、PNG、WebP；签名扫描件可用 PDF）"


class FileTooLarge(Invalid):
    title = "The file is larger than the upload limit"
    title_zh = "文件超过上传大小限制"


class EmptyFile(Invalid):
    title = "The file is empty"
    title_zh = "文件为空"


class UnreadableImage(Invalid):
    title = "The file does not decode as the image it claims to be"
    title_zh = "文件无法按其声明的图片格式解码"


class ImageTooLarge(Invalid):
    title = "The image has more pixels than accepted"
    title_zh = "图片像素超过允许的数量"


class StoredFileMissing(NotFound):
    title = "The stored file is missing"
    title_zh = "存储的文件已丢失"


@dataclass(frozen=True)
class Upload:
    """What the client sent: the bytes and the name its device gave them (display only)."""

    data: bytes
    filename: str = ""


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    type: FileType
    sha256: str
    original_filename: str

    @property
    def size(self) -> int:
        return len(self.data)


def sniff(data: bytes) -> FileType | None:
    """The file's real type from its magic bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(name: str) -> str:
    """The last path part, without control characters, at most 200 characters: for display."""
    base = re.split(r"[/\\]", name or "")[-1]
    return _UNSAFE.sub("", base).strip()[:200]


def check(upload: Upload, *, max_bytes: int, accepted: frozenset[FileType], field: str) -> CheckedFile:
    if not upload.data:
        raise EmptyFile(field=field)
    if len(upload.data) > max_bytes:
        raise FileTooLarge(f"the file is larger than {max_bytes} bytes", field=field, max_bytes=max_bytes)
    kind = sniff(upload.data)
    if kind is None or kind not in accepted:
        accepted_types = sorted(t.content_type for t in accepted)
        raise UnsupportedFileType(f"accepted: {', '.join(accepted_types)}", field=field, accepted=accepted_types)
    data = clean_image(upload.data, kind=kind, field=field) if kind in IMAGES else upload.data
    return CheckedFile(data=data, type=kind, sha256=hashlib.sha256(data).hexdigest(),
                       original_filename=clean_filename(upload.filename))


async def check_off_loop(upload: Upload, *, max_bytes: int, accepted: frozenset[FileType], field: str) -> CheckedFile:
    """`check` in a worker thread: decoding and re-encoding a photo takes the CPU for a while."""
    return await asyncio.to_thread(check, upload, max_bytes=max_bytes, accepted=accepted, field=field)


# --- images ------------------------------------------------------------------------------

_PIL_FORMAT = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
# Pillow raises any of these (and more: struct.error, ZeroDivisionError...) for a file that is not
# the image it claims to be; whatever it trips over, the upload is unreadable, never a 500.
_UNDECODABLE = (UnidentifiedImageError, Exception)


def clean_image(data: bytes, *, kind: FileType, field: str) -> bytes:
    """The image decoded and re-encoded in its format: upright, without metadata; refused if it
    does not decode or has more pixels than Pillow's decompression-bomb limit."""
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[kind]]) as im:
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and im.width * im.height > limit:
                raise ImageTooLarge(f"{im.width}×{im.height} is more than {limit} pixels", field=field, max_pixels=limit)
            if getattr(im, "n_frames", 1) > 1:
                raise UnsupportedFileType("an animated image is not a photo", field=field)
            im.load()
            return _reencode(im, kind=kind)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = Image.MAX_IMAGE_PIXELS
        raise ImageTooLarge(f"more than {limit} pixels", field=field, max_pixels=limit) from None
    except DomainError:
        raise
    except _UNDECODABLE as exc:
        raise UnreadableImage(f"not a readable {kind.content_type} image", field=field) from exc


def _reencode(im: Image.Image, *, kind: FileType) -> bytes:
    keep = {k: im.info[k] for k in ("icc_profile", "transparency") if k in im.info}  # colours, not metadata
    turned = im.getexif().get(ExifTags.Base.Orientation, 1) not in (0, 1)
    out_image = ImageOps.exif_transpose(im) if turned else im
    out_image.info = {}  # EXIF, XMP, comments, text chunks: none is written again
    out = io.BytesIO()
    if kind is JPEG:
        # "keep" re-uses the photo's own quantisation: no second loss of quality when it was not turned.
        quality: int | str = 95 if turned else "keep"
        out_image.save(out, format="JPEG", quality=quality, **({"subsampling": "keep"} if not turned else {}),
                       icc_profile=keep.get("icc_profile"))
    elif kind is PNG:
        out_image.save(out, format="PNG", optimize=False, **keep)
    else:
        out_image.save(out, format="WEBP", quality=90, **({"icc_profile": keep["icc_profile"]} if "icc_profile" in keep else {}))
    return out.getvalue()


def new_relative_path(*, estate_id: uuid.UUID, day: date, ext: str) -> str:
    """<estate_id>/<yyyy>/<mm>/<uuid>.<ext>, relative to the upload directory."""
    return f"{estate_id}/{day:%Y}/{day:%m}/{uuid.uuid4()}.{ext}"


def resolve(upload_dir: Path, relative: str) -> Path:
    """The absolute path of a stored file; refuses anything that would leave the upload directory."""
    root = upload_dir.resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise StoredFileMissing()
    return path


def write(upload_dir: Path, relative: str, data: bytes) -> Path:
    path = resolve(upload_dir, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    try:
        with open(temp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def write_all(upload_dir: Path, files: Iterable[tuple[str, bytes]]) -> list[Path]:
    """Write every file or none: on a failure the ones already written are removed."""
    written: list[Path] = []
    try:
        for relative, data in files:
            written.append(write(upload_dir, relative, data))
    except BaseException:
        remove(written)
        raise
    return written


_PENDING = "files_pending_commit"


def remove_on_rollback(session: AsyncSession, paths: list[Path]) -> None:
    """Delete `paths` if the session's transaction is rolled back instead of committed.

    The service returns before the request's session commits; should anything later fail,
    the rows vanish with the rollback and these files must vanish with them.
    """
    sync = session.sync_session
    if _PENDING not in sync.info:
        sync.info[_PENDING] = []
        event.listen(sync, "after_commit", _forget)
        event.listen(sync, "after_rollback", _remove_pending)
    sync.info[_PENDING].extend(paths)


def _forget(sync: Session) -> None:
    sync.info[_PENDING].clear()


def _remove_pending(sync: Session) -> None:
    pending = sync.info[_PENDING]
    remove(pending)
    pending.clear()
