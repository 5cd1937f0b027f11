"""The shape of the code: imports go one way (`app.py -> search -> storage`) with no circle,
including the imports written inside functions to dodge one; a Fathom that keeps its index in
SQLite never loads the PostgreSQL backend."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    for path in [*ROOT.glob("search/**/*.py"), *ROOT.glob("storage/**/*.py")]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Each module's imports of Fathom's own modules, wherever in the file they are written.
    `from package import module` points at the module alone (the package's __init__ only
    re-exports)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names if alias.name in known}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                inner = [f"{node.module}.{alias.name}" for alias in node.names]
                named = [module for module in inner if module in known]
                edges |= set(named) if len(named) == len(inner) else {node.module, *named} & set(known)
        graph[name] = edges - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or around a loop."""
    reach = {name: set(edges) for name, edges in graph.items()}
    changed = True
    while changed:
        changed = False
        for name, seen in reach.items():
            more = set().union(*(reach[other] for other in seen)) - seen
            if more:
                seen |= more
                changed = True
    groups = {frozenset({name} | {o for o in reach[name] if name in reach[o]}) for name in graph if name in reach[name]}
    return sorted(sorted(group) for group in groups)


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert circles(import_graph()) == []


def test_a_circle_is_found() -> None:
    """The check above sees a loop of three, and an import written inside a function."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = import_graph()
    assert "search.models.loading" in graph["search.models.embedder"]  # a top-level import
    assert "storage.postgres.store" in graph["storage"] | graph["storage.postgres"]  # inside functions


def test_imports_go_one_way_app_search_storage() -> None:
    for name, edges in import_graph().items():
        if name.startswith("storage"):
            assert not {e for e in edges if not e.startswith("storage")}, f"{name} imports above storage"
        if name.startswith("search"):
            assert "app" not in edges, f"{name} imports app.py"


def test_a_sqlite_index_never_loads_the_postgresql_backend(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from storage import ChunkRow, EmbeddingSpace, open_store\n"
        f"with open_store({str(tmp_path / 'i.db')!r}) as store:\n"
        "    store.set_embedding_space(EmbeddingSpace('m', 2))\n"
        "    folder = store.add_folder('/n')\n"
        "    store.write_file(folder.id, '/n/a.md', 1, 1, 'h', [ChunkRow(0, 0, 4, None, 'word', None)])\n"
        "    assert store.keyword_chunks(store.keyword_match('word'), 5)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool', 'pgvector')"
        " or m.startswith('storage.postgres.') and m != 'storage.postgres.connection'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- one place for each rule ---------------------------------------------------------------------------

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def test_no_module_is_over_400_lines_and_no_function_over_80() -> None:
    too_long = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []


def test_each_environment_variable_is_named_in_one_production_file() -> None:
    """search/settings_table.py names them; everything else asks it (env_name) or marks them."""
    import re

    named = {name: path for name, path in modules().items()
             if re.search(r"FATHOM_[A-Z]", path.read_text(encoding="utf-8"))}
    assert set(named) == {"search.settings_table"}


def cli_words() -> re.Pattern[str]:
    """`python app.py`, `fathom COMMAND`, and each option of Fathom's command line."""
    import argparse
    import re

    from search.cli import build_parser

    top = build_parser()
    flags = {f for a in top._actions for f in a.option_strings if f.startswith("--")}
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            flags |= {f for p in action.choices.values() for a in p._actions for f in a.option_strings if f.startswith("--")}
    flags -= {"--help"}
    options = "|".join(sorted((re.escape(f) for f in flags), key=len, reverse=True))
    return re.compile(rf"python app\.py|(?<![\w-])(?:{options})(?![\w-])")


def messages(path: Path) -> list[tuple[int, str]]:
    """The strings a module writes (f-strings too), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_command_line_wording_below_the_cli_edge() -> None:
    """Below the CLI (search/ but search/cli, and storage/), messages mark the settings and
    commands they mean (search/wording.py); each edge words them."""
    pattern = cli_words()
    found = [f"{name}:{line}: {text[:80]!r}"
             for name, path in modules().items()
             if name != "app" and not name.startswith(("search.cli", "search.settings_table"))
             for line, text in messages(path) if pattern.search(text)]
    assert found == []


def test_the_wording_check_sees_cli_words() -> None:
    pattern = cli_words()
    assert pattern.search("run `python app.py index`") and pattern.search("raise it with --max-file-size.")
    assert pattern.search("add --rerank to turn it on") and not pattern.search("pg_dump --format=custom")
    assert not pattern.search("the rerank depth") and not pattern.search("[[max_file_mb]]")
