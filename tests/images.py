"""Real, tiny pictures for upload tests, and ways to tell what was stored from what was sent.

Uploads are decoded and re-encoded before they are stored, so a stored photo is compared with
the sent one by its picture (size, mode, pixels), not byte for byte.
"""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageChops

GPS = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
SPY = "SPYCAM-4711"  # a maker's name planted in the EXIF: it must not reach the disk


def picture(fmt: str, *, size: tuple[int, int] = (16, 8), color: tuple[int, int, int] = (200, 60, 30), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save)
    return out.getvalue()


def spy_exif(*, orientation: int = 1) -> bytes:
    """EXIF as a phone writes it: the camera, the orientation and where the photo was taken."""
    exif = Image.Exif()
    exif[MAKE] = SPY
    exif[ORIENTATION] = orientation
    exif[GPS] = {1: "N", 2: (31.0, 14.0, 2.5), 3: "E", 4: (121.0, 28.0, 7.0)}
    return exif.tobytes()


def bomb_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height pixels (a few hundred bytes on the wire)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
            + chunk(b"IEND", b""))


def decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def same_picture(stored: bytes, sent: bytes, *, tolerance: int = 8) -> bool:
    """Same format, size and (within JPEG's rounding) the same pixels."""
    a, b = decoded(stored), decoded(sent)
    if (a.format, a.size) != (b.format, b.size):
        return False
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return max(high for _, high in diff.getextrema()) <= tolerance


JPEG = picture("JPEG")
PNG = picture("PNG")
WEBP = picture("WEBP")
