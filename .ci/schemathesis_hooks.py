"""Request bodies for the image routes (`image/png`, `image/jpeg`, `image/webp`
are raw bytes, which schemathesis cannot generate from a schema): small real
PNGs of random sizes and colours, the same cut short, and random bytes — so
both the accepting and the refusing paths are exercised. Loaded with
SCHEMATHESIS_HOOKS=schemathesis_hooks (see schemathesis.sh)."""
import struct
import zlib

import schemathesis
from hypothesis import strategies as st


def _png(width, height, rgb):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


_pngs = st.builds(
    _png,
    st.integers(min_value=1, max_value=64),
    st.integers(min_value=1, max_value=64),
    st.tuples(*[st.integers(min_value=0, max_value=255)] * 3),
)
_images = st.one_of(
    _pngs,
    _pngs.map(lambda b: b[: len(b) // 2]),
    st.binary(min_size=1, max_size=512),
)

for media_type in ("image/png", "image/jpeg", "image/webp"):
    schemathesis.openapi.media_type(media_type, _images)
