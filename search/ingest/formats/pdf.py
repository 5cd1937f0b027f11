"""Text out of PDFs with pypdf, page by page, so search results can name the page."""
from __future__ import annotations

import logging
from pathlib import Path

from search.errors import ExtractError

logging.getLogger("pypdf").setLevel(logging.ERROR)

_ENCRYPTED = "encrypted PDF (password protected); Fathom cannot read it"


def read_pdf(path: Path) -> tuple[str, list[int]]:
    """(text, page_starts): pages joined by blank lines; page i+1 begins at page_starts[i]."""
    from pypdf import PdfReader  # imported here: pypdf is slow to import and only PDFs need it
    from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError(_ENCRYPTED)
        pages = [page.extract_text() or "" for page in reader.pages]
    except ExtractError:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractError(_ENCRYPTED) from exc
    except (PdfReadError, PyPdfError) as exc:
        raise ExtractError(f"corrupt or unreadable PDF ({exc})") from exc
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on malformed input
        raise ExtractError(f"corrupt or unreadable PDF ({exc.__class__.__name__}: {exc})") from exc
    starts: list[int] = []
    offset = 0
    for text in pages:
        starts.append(offset)
        offset += len(text) + 2
    joined = "\n\n".join(pages)
    if not joined.strip():
        raise ExtractError("PDF has no extractable text (scanned images need OCR, which Fathom does not do)")
    return joined, starts
