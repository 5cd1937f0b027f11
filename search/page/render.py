"""The page's HTML pieces: messages, result cards, the summary, the header's pill and the
models' panel (the Library's pieces: render_library.py). Plain functions of plain data, so
tests read what a person would see without a browser. Every piece of text that comes from a
file or a person is escaped here, and every message from below the page is worded for the
page by `from_below`."""
from __future__ import annotations

import datetime as dt
import json
import os
from html import escape
from pathlib import Path
from typing import Any, Sequence

from search.live import LibraryView
from search.page.loader import LoaderView, short_name
from search.wording import PAGE, worded


# -- small words ---------------------------------------------------------------------------------


def from_below(text: str) -> str:
    """A message from below the page (an error, a note, a notice) in the page's words: the
    settings and actions it marks (search/wording.py) named as the page names them."""
    return worded(text, PAGE)


def pretty_path(path: str) -> str:
    """The home folder as ~, as people write it."""
    home = str(Path.home())
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home):]
    return path


def breakable_path(path: str) -> str:
    """A path as HTML that a narrow column breaks after a "/", never inside a folder's name
    (not even at its hyphens), unless the name alone is wider than the column."""
    parts = pretty_path(path).split("/")
    return "<wbr>".join(
        f'<span class="fathom-seg">{escape(part)}{"" if i == len(parts) - 1 else "/"}</span>' for i, part in enumerate(parts)
    )


def when(seconds: float | None, now: dt.datetime | None = None) -> str:
    if not seconds:
        return ""
    moment = dt.datetime.fromtimestamp(seconds)
    now = now or dt.datetime.now()
    if moment.date() == now.date():
        return f"today {moment:%H:%M}"
    if moment.date() == (now - dt.timedelta(days=1)).date():
        return f"yesterday {moment:%H:%M}"
    return f"{moment.day} {moment:%b %Y}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "estimating the time left"
    if seconds < 60:
        return "less than a minute left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    hours, rest = divmod(round(seconds / 60), 60)
    return f"about {hours} h {rest:02d} min left"


def size(count: int) -> str:
    if count >= 1e9:
        return f"{count / 1e9:.1f} GB"
    if count >= 1e6:
        return f"{count / 1e6:.0f} MB"
    return f"{count / 1e3:.0f} kB"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


# -- search -----------------------------------------------------------------------------------------


def snippet_html(text: str, highlights: Sequence[Sequence[int]]) -> str:
    out, at = [], 0
    for start, end in highlights:
        if start < at or end > len(text):
            continue
        out += [escape(text[at:start]), "<mark>", escape(text[start:end]), "</mark>"]
        at = end
    return "".join(out) + escape(text[at:])


def card(result: dict[str, Any], rank: int, show_scores: bool = False) -> str:
    path = Path(result["path"])
    details = [f'<span class="fathom-folder" title="{escape(str(path.parent))}">{escape(pretty_path(str(path.parent)))}</span>']
    if result.get("page"):
        details.append(f'<span class="fathom-chip">page {int(result["page"])}</span>')
    modified = when(result.get("modified"))
    if modified:
        details.append(f"<span>modified {escape(modified)}</span>")
    if result.get("embedded") is False:
        details.append(
            '<span class="fathom-chip fathom-words-only" title="Its passages are not embedded yet: '
            'found by its words; by meaning soon">words only, for now</span>'
        )
    if result.get("strong") is False:
        details.append(
            '<span class="fathom-chip fathom-weak" title="Few of your words, and no close meaning: '
            'shown because nothing matches better">weak match</span>'
        )
    context = result.get("context") or ""
    section = context.split(" › ", 1)[1] if " › " in context else ""
    heading = f'<div class="fathom-section">{escape(section)}</div>' if section else ""
    snippet = snippet_html(result.get("snippet") or result.get("text", "")[:240], result.get("highlights") or [])
    scores = ""
    if show_scores:
        # The word score beside the vector one: the file's best passage by words (BM25), which
        # may not be the passage shown; a dash where a score was not computed.
        words = result.get("word_score", result.get("keyword_score"))
        parts = [f"score {result['score']:.4f}", _score("vector", result.get("vector_score")), _score("words", words)]
        if result.get("rerank_score") is not None:
            parts.append(_score("rerank", result["rerank_score"]))
        scores = f'<div class="fathom-scores">{" · ".join(parts)}</div>'
    return (
        f'<div class="fathom-card" data-rank="{rank}">'
        f'<div class="fathom-card-head"><span class="fathom-rank">{rank}</span>'
        f'<span class="fathom-name" title="{escape(str(path))}">{escape(path.name)}</span></div>'
        f'<div class="fathom-meta">{" · ".join(details)}</div>'
        f"{heading}"
        f'<p class="fathom-snippet">{snippet}</p>'
        f"{scores}</div>"
    )


def _score(label: str, value: float | None) -> str:
    return f"{label} {value:.3f}" if value is not None else f"{label} –"


def summary(
    count: int, milliseconds: float, notes: Sequence[str] = (), like: str | None = None,
    matching: int | None = None, newest: bool = False, weak: bool = False, waiting: int = 0,
    corrected: tuple[str, str, str] | None = None,
) -> str:
    """How many files are shown, how many hold any of the query's words (`matching`, counted
    up to a thousand), in what order, how fast; what a misspelled query was searched as, with
    the original one click away (`corrected`: as searched, the text that searches it as typed,
    as typed); then "no strong match" (`weak`), the files still without their meaning
    (`waiting`), and the notes."""
    what = f"Files like <b>{escape(like)}</b>: " if like else ""
    found = f"{plural(count, 'file')}" + (", newest first," if newest else "") + f" in {_ms(milliseconds)}"
    if matching is not None:
        words = "1,000 or more" if matching >= 1000 else f"{matching:,}"
        found += f' · <span class="fathom-matching">{words} {"file matches" if matching == 1 else "files match"} your words</span>'
    text = f'<div class="fathom-summary">{what}{found}</div>'
    if corrected:
        searched, instead, typed = corrected
        # One click puts the words as typed (the corrected ones in quotes: never corrected)
        # into the search box and searches again.
        again = (
            "const box = document.querySelector('#fathom-query textarea, #fathom-query input');"
            f"box.value = {json.dumps(instead)}; box.dispatchEvent(new Event('input', {{bubbles: true}}));"
            "setTimeout(() => document.querySelector('#fathom-go').click(), 50); return false;"
        )
        text += (
            f'<div class="fathom-note fathom-corrected">Showing results for <b>{escape(searched)}</b>. '
            f'Search instead for <a href="#" class="fathom-as-typed" onclick="{escape(again, quote=True)}">'
            f"{escape(typed)}</a></div>"
        )
    if weak:
        text += (
            '<div class="fathom-note fathom-no-strong-match"><b>No strong match.</b> None of these files has '
            "most of your words or a meaning close to your query: try other words, or a longer description.</div>"
        )
    if waiting:
        text += (
            f'<div class="fathom-note fathom-incomplete">{plural(waiting, "file")} not embedded yet: found by '
            "their words only until then, so results may be incomplete (progress in Library).</div>"
        )
    for note in notes:
        text += f'<div class="fathom-note">{escape(from_below(note))}</div>'
    return text


def _ms(milliseconds: float) -> str:
    return f"{milliseconds:.0f} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f} s"


def message(title: str, body: str = "", kind: str = "info") -> str:
    """An empty state or an error: what happened, and what to do (body is plain text, an
    error's message as it is: worded for the page here)."""
    text = f'<div class="fathom-message fathom-{kind}"><div class="fathom-message-title">{escape(title)}</div>'
    if body:
        text += f"<p>{escape(from_below(body))}</p>"
    return text + "</div>"


def welcome() -> str:
    return (
        '<div class="fathom-message fathom-welcome">'
        '<div class="fathom-message-title">Welcome to Fathom</div>'
        "<p>Fathom searches your own files by what they mean, on this computer. To begin:</p>"
        "<ol><li>Open <b>Library</b> and type the path of a folder, such as <code>~/Documents</code>.</li>"
        "<li>Press <b>Add folder</b>. Fathom reads its notes, documents, code and PDFs, and keeps "
        "watching it for changes.</li>"
        "<li>Come back here and ask in your own words, e.g. <i>the receipt for the new laptop</i>.</li></ol>"
        "</div>"
    )


# -- the header ----------------------------------------------------------------------------------------


def pill(loader: LoaderView, library: LibraryView | None = None) -> str:
    """One line in the header: is search ready, is Fathom indexing."""
    if loader.state == "failed":
        text, kind = "Model not loaded: see Settings", "error"
    elif loader.state in ("waiting", "loading"):
        text, kind = loading_words(loader), "busy"
    elif library is not None and library.progress is not None:
        p = library.progress
        text, kind = f"Reading {p['files_done']:,} of {p['files_total']:,} files", "busy"
    elif library is not None and library.embedding is not None:
        p = library.embedding
        text, kind = f"Embedding {p['chunks_done']:,} of {p['chunks_total']:,} passages", "busy"
    else:
        device = f" · {loader.device}" if loader.device else ""
        text, kind = f"Ready{device}", "ready"
    return _pill(text, kind)


def starting_pill() -> str:
    return _pill("Starting", "busy")


def _pill(text: str, kind: str) -> str:
    return f'<div class="fathom-pill fathom-pill-{kind}" role="status"><span class="fathom-dot"></span>{escape(text)}</div>'


def loading_words(loader: LoaderView) -> str:
    words = loader.stage or "Loading the models"
    if loader.downloaded:
        words = words.replace("Loading", "Downloading", 1) + f" · {size(loader.downloaded)} so far"
    if loader.seconds >= 2:
        words += f" · {loader.seconds:.0f} s"
    return words


def model_panel(loader: LoaderView, settings: Any) -> str:
    """What the models are doing, with the way out when one failed."""
    if loader.state == "failed":
        return message(
            "The embedding model could not be loaded",
            f"{loader.error} "
            + (
                "In Settings, check the server's URL and the model's name as the server knows it, "
                "or clear the URL to run a model on this computer."
                if getattr(settings, "embedding_url", None)
                else "In Settings, you can choose another model or type the path of a local folder "
                "that holds the model's files."
            )
            + " Until then, search finds files by their words only.",
            "error",
        )
    rows = [("Embedding model", short_name(settings.embedding_model), loader.state)]
    if settings.reranker_model:
        rows.append(("Reranker", short_name(settings.reranker_model), loader.reranker))
    lines = "".join(
        f"<li><span>{escape(label)}</span> <b>{escape(name)}</b> <em>{escape(_state_words(state))}</em></li>"
        for label, name, state in rows
    )
    extra = ""
    if loader.state in ("waiting", "loading"):
        extra = f'<p class="fathom-muted">{escape(loading_words(loader))}</p>'
    if loader.reranker_error:
        extra += (f'<p class="fathom-warning-text">{escape(from_below(loader.reranker_error))} '
                  "Searches run without reranking.</p>")
    device = f"<li><span>Running on</span> <b>{escape(loader.device)}</b></li>" if loader.device else ""
    return f'<div class="fathom-models"><ul>{lines}{device}{_formats(settings)}</ul>{extra}</div>'


def _formats(settings: Any) -> str:
    """For models on a server: whether queries (and rerank prompts) take Qwen3's format, and
    why, so that it is never a silent guess."""
    from search.models.remote import query_format, rerank_format

    items = []
    if getattr(settings, "embedding_url", None):
        items.append(("Queries", query_format(settings.embedding_model, settings.query_format)))
    if getattr(settings, "reranker_url", None) and settings.reranker_model:
        items.append(("Rerank prompt", rerank_format(settings.reranker_model, settings.reranker_format)))
    return "".join(
        f"<li><span>{label}</span> <b>{'Qwen3 format' if fmt == 'qwen3' else 'plain'}</b> "
        f"<em>{'as set in Settings' if why == 'set' else 'as the model’s name says'}</em></li>"
        for label, (fmt, why) in items
    )


def _state_words(state: str) -> str:
    return {
        "waiting": "waiting",
        "loading": "loading…",
        "ready": "ready",
        "failed": "failed",
        "none": "off",
    }.get(state, state)
