"""The Library tab's HTML pieces: the indexing progress, the folders and the files not
indexed. Plain functions of plain data (see render.py); every text from a file, a person or
below the page is escaped, and worded for the page, here."""
from __future__ import annotations

from html import escape

from search.live import LibraryView
from search.page.loader import LoaderView
from search.page.render import breakable_path, duration, from_below, loading_words, message, plural, pretty_path, when

MAX_PROBLEMS = 200  # rows listed; the count says how many there are



def progress(library: LibraryView, loader: LoaderView) -> str:
    """The bars and their words while indexing: the words phase (files read: searchable by
    their words) then the meaning phase (passages embedded, time left from tokens); a line of
    state otherwise."""
    p = library.progress
    if p is not None:
        total = max(int(p["files_total"]), 1)
        done = int(p["files_done"])
        failed = f" · {p['files_failed']} failed" if p["files_failed"] else ""
        return _bar(
            f"Reading {done:,} of {total:,} files", duration(p["eta_seconds"]), 100.0 * done / total,
            f"Each file is searchable by its words as soon as it is read{failed}.", p["current"], library,
        )
    e = library.embedding
    if e is not None and e["chunks_total"]:
        total, done = int(e["chunks_total"]), int(e["chunks_done"])
        rate = f" · {e['chunks_per_second']:.1f} passages/s" if e["chunks_per_second"] else ""
        return _bar(
            f"Embedding {done:,} of {total:,} passages", duration(e["eta_seconds"]), 100.0 * done / max(total, 1),
            f"Every file is searchable by its words; by meaning as it is embedded, newest first{rate}.",
            e["current"], library,
        )
    waiting = library.waiting.files if library.waiting is not None else 0
    if library.busy:
        return message("Starting to index…")
    if library.error:
        return message("Indexing stopped", library.error, "error")
    if waiting and loader.state == "failed":
        return message(
            f"{plural(waiting, 'file')} searchable by their words only",
            (loader.error or "") + " They are embedded once a model loads.", "error",
        )
    if waiting and library.embed_error:
        return message(f"{plural(waiting, 'file')} searchable by their words only", library.embed_error, "error")
    if waiting and loader.state != "ready":
        return message(
            f"{plural(waiting, 'file')} searchable by their words; by meaning once the model is loaded",
            loading_words(loader),
        )
    if not library.folders:
        return message(
            "No folders yet",
            "Type the path of a folder above and press Add folder: Fathom indexes it and keeps watching it.",
        )
    last = f" Last run: {library.last_run}." if library.last_run else ""
    change = f" Last change picked up {when(library.last_change)}." if library.last_change else ""
    return (
        '<div class="fathom-progress fathom-done">'
        f"<b>Up to date</b> · {plural(library.indexed_files, 'file')}, {plural(library.chunks, 'passage')}."
        f'<span class="fathom-muted">{escape(from_below(last + change))}</span>{_notice(library)}</div>'
    )


def _bar(title: str, left: str, percent: float, words: str, current: str, library: LibraryView) -> str:
    label = (
        f'<div class="fathom-current" title="{escape(current)}">{escape(pretty_path(current))}</div>' if current else ""
    )
    return (
        '<div class="fathom-progress">'
        f'<div class="fathom-progress-words"><b>{escape(title)}</b><span>{escape(left)}</span></div>'
        f'<div class="fathom-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" '
        f'aria-valuenow="{percent:.0f}"><div style="width:{percent:.1f}%"></div></div>'
        f'<div class="fathom-muted">{escape(words)}</div>'
        f"{label}{_notice(library)}</div>"
    )


def _notice(library: LibraryView) -> str:
    return f'<div class="fathom-note">{escape(from_below(library.notice))}</div>' if library.notice else ""


STATE_LABELS = {
    "watching": "Watching",
    "polling": "Checking",
    "indexing": "Indexing",
    "queued": "Queued",
    "embedding": "Embedding",
    "waiting": "Waiting",
    "removing": "Removing",
    "missing": "Missing",
    "indexed": "Indexed",
}


def folders_table(library: LibraryView) -> str:
    if not library.folders:
        return ""
    rows = "".join(
        "<tr>"
        f'<td class="fathom-path" title="{escape(f.path)}">{breakable_path(f.path)}</td>'
        f'<td class="fathom-count">{f.files:,}</td>'
        f'<td><span class="fathom-state fathom-state-{f.state}" title="{escape(from_below(f.detail))}">'
        f"{STATE_LABELS.get(f.state, f.state)}</span>"
        f'<div class="fathom-muted fathom-detail">{escape(from_below(f.detail))}</div></td>'
        "</tr>"
        for f in library.folders
    )
    return (
        '<table class="fathom-table fathom-folders"><thead><tr><th>Folder</th><th>Files</th>'
        f"<th>Status</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def problems(library: LibraryView) -> str:
    items = (
        [("failed", p, e) for p, e in library.failed]
        + [("skipped", p, e) for p, e in library.skipped]
        + [("cut", p, why) for p, why in library.cut]
        + [("ignored", p + ("/" if folder else ""), why) for p, why, folder in library.ignored]
    )
    if not items:
        return '<p class="fathom-muted">Every file found was indexed.</p>'
    rows = "".join(
        f'<tr><td><span class="fathom-state fathom-state-{kind}">{kind}</span></td>'
        f'<td class="fathom-path" title="{escape(path)}">{breakable_path(path)}</td>'
        f"<td>{escape(from_below(reason or ''))}</td></tr>"
        for kind, path, reason in items[:MAX_PROBLEMS]
    )
    more = (
        f'<p class="fathom-muted">…and {len(items) - MAX_PROBLEMS:,} more, not listed here: the first '
        f"{MAX_PROBLEMS} are.</p>"
        if len(items) > MAX_PROBLEMS
        else ""
    )
    return (
        '<p class="fathom-muted">Failed files could not be read (corrupt, encrypted, too slow or '
        "too big to parse); skipped files were read and left out (binary, over the size limit, "
        "minified, encoded data); cut files are indexed up to the passage limit, the rest found by "
        "its words only; ignored ones are never read (hidden, excluded by a .gitignore, not a "
        "document), and a folder ignored is left out whole. Fix a file and it is picked up on "
        "its own; Re-index its folder to try them all again.</p>"
        '<table class="fathom-table fathom-problems"><thead><tr><th></th><th>File</th><th>Why</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>{more}"
    )


def problems_label(library: LibraryView | None) -> str:
    count = (
        len(library.failed) + len(library.skipped) + len(library.cut) + len(library.ignored)
        if library is not None else 0
    )
    return "Files not indexed" + (f" ({count:,})" if count else "")
