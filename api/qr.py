"""QR codes for vouchers and member cards, as SVG documents (and PNG for the card route)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pure import PyPNGImage


def qr_svg(payload: str) -> str:
    """A standalone SVG of the payload's QR code; medium error correction, as a till expects."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M,
        border=4,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(payload)
    code.make(fit=True)
    return str(code.make_image().to_string(encoding="unicode"))


def qr_png(payload: str, box_size: int = 8) -> bytes:
    """The payload's QR code as a PNG (pure Python, via pypng)."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M, border=4, box_size=box_size, image_factory=PyPNGImage
    )
    code.add_data(payload)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()
