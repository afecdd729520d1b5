"""A readout as PDF: its HTML page laid out by WeasyPrint, offline and deterministically.

* **No network.** WeasyPrint fetches nothing but ``data:`` URIs: its URL fetcher refuses
  every other scheme (``http``, ``https``, ``file``, ...), and a refusal stops the
  rendering (a readout never needs a resource from outside itself). Fonts come from the
  system's fontconfig (Debian's DejaVu, installed by ``make pdf-libraries``), never
  downloaded.
* **Deterministic.** The PDF's creation and modification dates come from the page's
  ``dcterms`` metadata, which is the readout's issue time, never the clock; its file
  identifier is derived from the readout's own bytes. The same HTML gives the same PDF.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from typing import Any

from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from backchannel.errors import BackchannelError
from backchannel.messages import t_


class RefusedFetch(BackchannelError):
    """The readout asked WeasyPrint for a resource from outside itself."""


class OnlyDataURIs(URLFetcher):  # type: ignore[misc]
    """A URL fetcher that serves ``data:`` URIs only and refuses every other URL."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), fail_on_errors=True)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> Any:
        """The resource of a ``data:`` URI; RefusedFetch for any other URL."""
        if not url.lower().startswith("data:"):
            self.refused.append(url)
            raise RefusedFetch(t_("a readout may not fetch {url}", url=url[:200]))
        return super().fetch(url, headers)


def to_pdf(html: bytes) -> bytes:
    """The PDF of a readout page (UTF-8 HTML from :func:`.readout.document`).

    Raises
    ------
    RefusedFetch
        The page refers to a resource other than a ``data:`` URI.
    """
    fetcher = OnlyDataURIs()
    page = HTML(string=html.decode("utf-8"), url_fetcher=fetcher, base_url=None)
    identifier = hashlib.sha256(html).hexdigest()[:32].encode("ascii")
    found = b""
    with suppress(FatalURLFetchingError):  # a BaseException: WeasyPrint stops on a refusal
        found = page.write_pdf(pdf_identifier=identifier)
    if fetcher.refused:
        raise RefusedFetch(t_("a readout may not fetch {url}", url=fetcher.refused[0][:200]))
    return found
