"""What one run of indexing did, and the same as a line of words (the page, `index` watching in a terminal)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IndexReport:
    folders: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    ignored: int = 0
    chunks: int = 0  # chunks embedded
    written_chunks: int = 0  # chunks written by the words phase (searchable by their words)
    written: list[str] = field(default_factory=list)  # paths of the files written (new or changed)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cut: list[tuple[str, str]] = field(default_factory=list)  # indexed up to the passage limit
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # folders removed (from the page, or another process) while they were being indexed:
    # nothing more was written under them
    folders_removed: list[str] = field(default_factory=list)


def describe_report(report: IndexReport) -> str:
    parts = [f"{report.added} new", f"{report.updated} updated", f"{report.unchanged} unchanged"]
    if report.removed:
        parts.append(f"{report.removed} removed")
    if report.moved:
        parts.append(f"{report.moved} moved")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped")
    return ", ".join(parts) + " file(s)"
