"""Safe reading of the zip containers behind DOCX and EPUB.

Every way a zip can be broken (not a zip, truncated, bad CRC, an unsupported compression, a
zip bomb) becomes one ExtractError naming the format, so the indexer records a clear reason
and moves on. XML parts are parsed with ElementTree, whose bundled expat (>= 2.4.1) refuses
entity-expansion bombs and which never fetches external entities.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from types import TracebackType
from xml.etree import ElementTree

from search.errors import ExtractError, SkippedFile

# Unpacked bytes read from one archive at most; a few KB of zip can claim gigabytes.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
# OS errors that are about the file, not its bytes; a damaged zip gives others (EINVAL on a
# seek to a negative offset), which are corruption.
_ACCESS_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, TimeoutError)


def local_name(tag: str) -> str:
    """`{namespace}name` -> `name`: producers disagree on namespaces (OOXML strict, EPUB 2/3)."""
    return tag.rsplit("}", 1)[-1]


class Archive:
    """A zip opened for one format (`kind` names it in error messages: "DOCX", "EPUB")."""

    def __init__(self, path: Path, kind: str):
        self.kind = kind
        self._budget = MAX_UNPACKED_BYTES
        try:
            self._zip = zipfile.ZipFile(path)
        except _ACCESS_ERRORS as exc:
            raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
        except Exception as exc:  # zipfile raises half a dozen types on damaged headers
            raise ExtractError(f"corrupt {kind} (not a zip archive)") from exc
        self.names = [n for n in self._zip.namelist() if not n.endswith("/")]
        self._exact = set(self.names)
        self._folded = {n.lower(): n for n in self.names}

    def __enter__(self) -> "Archive":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._zip.close()

    def find(self, name: str) -> str | None:
        """The member called `name`, matched case-insensitively as a fallback (hand-made EPUBs)."""
        name = name.lstrip("/")
        if name in self._exact:
            return name
        return self._folded.get(name.lower())

    def read(self, name: str) -> bytes | None:
        """The member's bytes, or None when it is not there."""
        member = self.find(name)
        if member is None:
            return None
        try:
            with self._zip.open(member) as handle:
                data = handle.read(self._budget + 1)
        except _ACCESS_ERRORS as exc:
            raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
        except Exception as exc:  # BadZipFile, zlib.error, EOFError, NotImplementedError...
            raise ExtractError(f"corrupt {self.kind} ({member} cannot be unpacked: {exc})") from exc
        self._budget -= len(data)
        if self._budget < 0:
            raise SkippedFile(
                f"{self.kind} unpacks to over {MAX_UNPACKED_BYTES // (1024 * 1024)} MB of text; "
                "Fathom skips it as a likely zip bomb"
            )
        return data

    def xml(self, name: str) -> ElementTree.Element | None:
        """The member parsed as XML, or None when it is not there."""
        data = self.read(name)
        if data is None:
            return None
        try:
            return ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            raise ExtractError(f"corrupt {self.kind} ({self.find(name)} is not valid XML: {exc})") from exc
