"""PostgreSQL's side of storage/dialect.py: `%s` placeholders, a list of values as one array
(`= ANY(%s)`), and a ChunkFilter with SQLite's meaning: extensions match in any case (SQLite's
LIKE), and a glob is SQLite's GLOB (case-sensitive; `*`, `?`, `[...]`, `[^...]`) made a regular
expression; NUL characters, which its text cannot hold, are replaced in stored text (`clean`)."""
from __future__ import annotations

import re

from storage.dialect import Dialect


def glob_regex(glob: str) -> str:
    """SQLite's GLOB pattern as an anchored regular expression; NUL characters, which its text cannot hold, are replaced in stored text (`clean`)."""
    out, i = ["^"], 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = i + 1
            j += glob[j : j + 1] == "^"
            j += glob[j : j + 1] == "]"  # a "]" first in the set is one of its characters
            end = glob.find("]", j)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = glob[i + 1 : end]
                negate = body.startswith("^")
                body = body[1:] if negate else body
                out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out) + "$"


def clean(text: str) -> str:
    """PostgreSQL's text holds no NUL character: each becomes U+FFFD, so offsets stay right."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


DIALECT = Dialect(
    mark="%s",
    true="TRUE",
    false="false",
    batch=None,
    like_any_case="ILIKE",
    like_drops="%_\\",
    file_name="substring(f.path from '[^/]*$')",
    glob="~",
    glob_pattern=glob_regex,
    stored_text=clean,
)
