"""QR codes for setting up two-factor sign-in, drawn here as inline SVG (segno).

The code is made on the server and put into the page as markup: nothing is loaded
from elsewhere, no script runs, and no ``data:`` URL is needed.
"""

from __future__ import annotations

import segno


def qr_svg(text: str) -> str:
    """An SVG element (no XML declaration) of ``text`` as a QR code, error level M."""
    code = segno.make(text, error="m", micro=False)
    svg: str = code.svg_inline(scale=4, dark="#000", light="#fff", title="QR code to scan")
    return svg
