"""Known-item test sets built from what every machine that runs Fathom has: the Python standard
library and the installed packages' own descriptions. Nobody in this project wrote them, so
they cannot have been shaped to suit Fathom, and anyone can rebuild them.

Each set is documents (a relative path and a text) and queries (a text and the one path that
answers it):

- functions: each public function, class or method of the standard library is a document (its
  source without docstrings; a class keeps only its methods' signatures); the query is the
  summary line of its docstring. Short documents, one file per item.
- modules: each standard-library module is a document, as a whole file; the query is the first
  paragraph of its docstring, which is taken out of the file. Long documents.
- readmes: each installed distribution's long description (its README, from the METADATA) is a
  document; the query is its `Summary` line, taken out of the text where the README repeats it.
  Long documents; the set grows with what is installed.

Queries are split into two folds once and for all (seed 0 takes from fold 0, seed 1 from fold
1...), so a seed's queries never overlap another's: tune on one, report the other as held out.
The functions set, large enough to sample, keeps its own sampling of documents by seed.
"""
from __future__ import annotations

import ast
import importlib.metadata
import inspect
import os
import random
import re
import sysconfig
import textwrap
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SKIP_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "encodings", "turtledemo",
             "pydoc_data", "__pycache__"}
BOILERPLATE = re.compile(
    r"^(return self\b|implements? |initiali[sz]e self|create and return a new object|see |same as |"
    r"alias for|deprecated|for internal use|internal |override|todo|xxx)", re.IGNORECASE
)
MIN_WORDS, MIN_LINES = 5, 3
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
FOLDS = 2
SETS = ("functions", "modules", "readmes")


@dataclass(frozen=True)
class Document:
    relpath: str
    text: str


@dataclass(frozen=True)
class Query:
    text: str
    relpath: str  # the one document that answers it


@dataclass(frozen=True)
class KnownItems:
    name: str
    documents: list[Document]
    queries: list[Query]
    eligible: int  # documents that could have given a query, over all folds


def build(name: str, seed: int, docs: int, queries: int) -> KnownItems:
    if name == "functions":
        return functions(seed, docs, queries)
    if name == "modules":
        return modules(seed, queries)
    if name == "readmes":
        return readmes(seed, queries)
    raise ValueError(f"unknown set {name!r}: choose one of {', '.join(SETS)}")


def summary(doc: str, min_words: int = MIN_WORDS) -> str | None:
    """The docstring's first sentence, or None when it is too short or says nothing."""
    text = " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", text)
    text = text[: end.start()] if end else text
    if len(text.split()) < min_words or BOILERPLATE.match(text) or re.match(r"[\w.]+\(", text):
        return None  # too short, boilerplate, or a signature that would just spell out the name
    return text


def _fold(name: str, keys: list[str], seed: int) -> set[str]:
    """The keys of the fold that `seed` draws its queries from (fixed per set and key list)."""
    shuffled = sorted(keys)
    random.Random(f"folds of {name}").shuffle(shuffled)
    return {key for i, key in enumerate(shuffled) if i % FOLDS == seed % FOLDS}


def _sample_queries(name: str, candidates: dict[str, str], seed: int, count: int) -> list[Query]:
    fold = sorted(_fold(name, list(candidates), seed))
    chosen = random.Random(seed).sample(fold, min(count, len(fold)))
    return [Query(candidates[path], path) for path in chosen]


# -- functions: short documents ------------------------------------------------------------------


def docstring_lines(node: Any) -> range | None:
    """The line numbers of a docstring, when it has lines of its own."""
    first = node.body[0] if node.body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str) and first.lineno > getattr(node, "lineno", 0)):
        return range(first.lineno, first.end_lineno + 1)
    return None


def definition_source(lines: list[str], node: Any) -> str:
    """The source of `node` (decorators included) without docstrings. A module or class keeps
    only the signatures of the functions and classes in it, so no document holds another's code."""
    if isinstance(node, ast.Module):
        start, end = 1, len(lines)
    else:
        start, end = min([node.lineno] + [d.lineno for d in node.decorator_list]), node.end_lineno
    drop: dict[int, str | None] = {}
    for inner in ast.walk(node):
        if isinstance(inner, (ast.Module, *DEFS)) and (doc := docstring_lines(inner)):
            drop.update(dict.fromkeys(doc))
    if isinstance(node, (ast.Module, ast.ClassDef)):
        for child in node.body:
            if isinstance(child, DEFS) and child.body[0].lineno > child.lineno:
                drop.update(dict.fromkeys(range(child.body[0].lineno, child.end_lineno + 1)))
                drop[child.body[0].lineno] = " " * child.body[0].col_offset + "..."
    kept = [drop[n] if n in drop else lines[n - 1] for n in range(start, end + 1)]
    text = textwrap.dedent("\n".join(line for line in kept if line is not None)).strip()
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text) + "\n"


def _stdlib_modules() -> list[tuple[Path, str]]:
    """(file, dotted name) of every public standard-library module."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(("_", ".")))
        for name in sorted(n for n in names if n.endswith(".py")):
            parts = list(Path(folder, name).relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts and not any(p.startswith("_") or "-" in p for p in parts):
                found.append((Path(folder, name), ".".join(parts)))
    return found


def _parse(path: Path) -> tuple[str, ast.Module] | None:
    try:
        with tokenize.open(path) as handle:
            source = handle.read()
        return source, ast.parse(source)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None


def _definitions(path: Path, module: str) -> list[tuple[str, str, str]]:
    """(relpath, query, document) of the module, its classes, functions and methods."""
    parsed = _parse(path)
    if parsed is None:
        return []
    source, tree = parsed
    lines = source.splitlines()
    found: list[tuple[str, Any]] = [("__module__", tree)]
    for node in tree.body:
        if isinstance(node, DEFS):
            found.append((node.name, node))
            if isinstance(node, ast.ClassDef):
                found += [(f"{node.name}.{m.name}", m) for m in node.body if isinstance(m, DEFS)]
    items = []
    for qualname, node in found:
        doc = ast.get_docstring(node, clean=False)  # the module's too: its file is __module__.py
        query = summary(doc) if doc and docstring_lines(node) else None
        if query is None:
            continue
        text = definition_source(lines, node)
        if sum(1 for line in text.splitlines() if line.strip()) >= MIN_LINES:
            items.append((f"{module}/{qualname}.py", query, text))
    return items


def functions(seed: int, docs: int, queries: int) -> KnownItems:
    """Summaries or documents that occur more than once are dropped altogether, since their
    queries would have no single right answer."""
    items: dict[str, tuple[str, str]] = {}
    for path, module in _stdlib_modules():
        for relpath, query, text in _definitions(path, module):
            items.setdefault(relpath, (query, text))
    seen_q = Counter(q.lower() for q, _ in items.values())
    seen_d = Counter(t for _, t in items.values())
    pool = sorted(p for p, (q, t) in items.items() if seen_q[q.lower()] == 1 and seen_d[t] == 1)
    rng = random.Random(seed)
    chosen = sorted(rng.sample(pool, min(docs, len(pool))))
    asked = rng.sample(chosen, min(queries, len(chosen)))
    return KnownItems(
        "functions",
        [Document(p, items[p][1]) for p in chosen],
        [Query(items[p][0], p) for p in asked],
        len(pool),
    )


# -- modules: long documents -------------------------------------------------------------------------


def _without_first_paragraph(source: str, tree: ast.Module) -> str:
    """The module's source with the first paragraph of its docstring taken out."""
    node = tree.body[0]
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    lines = source.splitlines(keepends=True)
    doc_lines = lines[node.lineno - 1 : node.end_lineno]
    raw = "".join(doc_lines)
    opening = re.match(r'\s*[rRuUbB]*("""|\'\'\'|"|\')', raw)
    quote = opening.group(1) if opening else '"""'
    body = raw[opening.end() if opening else 0 :]
    body = body[: body.rfind(quote)] if quote in body else body
    rest = re.split(r"\n\s*\n", body.strip("\n"), maxsplit=1)
    kept = rest[1] if len(rest) > 1 else ""
    docstring = f"{quote}{kept}{quote}\n" if kept.strip() else ""
    return "".join(lines[: node.lineno - 1]) + docstring + "".join(lines[node.end_lineno :])


def modules(seed: int, queries: int) -> KnownItems:
    documents, candidates = [], {}
    root = Path(sysconfig.get_paths()["stdlib"])
    for path, _module in _stdlib_modules():
        parsed = _parse(path)
        if parsed is None:
            continue
        source, tree = parsed
        relpath = path.relative_to(root).as_posix()
        doc = ast.get_docstring(tree, clean=False)
        query = summary(doc, min_words=3) if doc and docstring_lines(tree) else None
        if query is not None:
            source = _without_first_paragraph(source, tree)
            candidates[relpath] = query
        if source.strip():
            documents.append(Document(relpath, source))
    seen = Counter(q.lower() for q in candidates.values())
    candidates = {p: q for p, q in candidates.items() if seen[q.lower()] == 1}
    return KnownItems("modules", documents, _sample_queries("modules", candidates, seed, queries), len(candidates))


# -- readmes: long documents in prose ------------------------------------------------------------------

_EXTENSIONS = {"text/markdown": ".md", "text/x-rst": ".rst"}


def readmes(seed: int, queries: int) -> KnownItems:
    texts: dict[str, tuple[str, str | None]] = {}
    for dist in importlib.metadata.distributions():
        meta = dist.metadata
        name = re.sub(r"[-_.]+", "-", (meta.get("Name") or "").lower())
        body = meta.get_payload() or meta.get("Description") or ""
        if not name or name in texts or len(body) < 300:
            continue
        kind = (meta.get("Description-Content-Type") or "").split(";")[0].strip().lower()
        relpath = f"{name}/README{_EXTENSIONS.get(kind, '.txt')}"
        words = " ".join((meta.get("Summary") or "").split())
        query = words if len(words.split()) >= 3 else None
        if query:
            # The README often opens with its summary: take it out, or the query is a quote.
            body = re.sub(re.escape(query).replace(r"\ ", r"\s+"), " ", body, flags=re.IGNORECASE)
        texts[relpath] = (body, query)
    seen_d = Counter(body for body, _ in texts.values())
    seen_q = Counter(q.lower() for _, q in texts.values() if q)
    documents = [Document(p, body) for p, (body, _) in sorted(texts.items()) if seen_d[body] == 1]
    candidates = {
        p: q for p, (body, q) in texts.items() if q and seen_q[q.lower()] == 1 and seen_d[body] == 1
    }
    return KnownItems("readmes", documents, _sample_queries("readmes", candidates, seed, queries), len(candidates))
