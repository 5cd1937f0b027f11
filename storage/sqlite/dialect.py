"""SQLite's side of storage/dialect.py: `?` placeholders, lists of values asked for 500 at a
time, LIKE (which ignores the case of ASCII letters) and GLOB as they are."""
from __future__ import annotations

from storage.dialect import Dialect

DIALECT = Dialect(
    mark="?",
    true="1",
    false="0",
    batch=500,
    like_any_case="LIKE",
    like_drops="%_",
    # The part of f.path after its last "/": rtrim() strips the name's characters off the end.
    file_name="substr(f.path, length(rtrim(f.path, replace(f.path, '/', ''))) + 1)",
    glob="GLOB",
    glob_pattern=str,
    stored_text=str,
    returning=False,  # RETURNING came in SQLite 3.35, newer than some Pythons bring
)
