"""The package reads as the README says: every module is in its table, and the engine never
imports the evaluation (which sits beside it) or names the shipped corpus."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "assistant"
# The engine: everything but the evaluation and the command line that dispatches to it.
ENGINE = [p for p in PACKAGE.rglob("*.py") if "evaluation" not in p.relative_to(PACKAGE).parts and p.name != "cli.py"]


def _imports(path: Path) -> set[str]:
    """Absolute names of the package modules ``path`` imports (relative imports resolved)."""
    package = ".".join(("assistant", *path.relative_to(PACKAGE).parent.parts))
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found |= {module} | {f"{module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_every_module_is_in_the_readme_table():
    table = PROJECT.joinpath("README.md").read_text(encoding="utf-8").split("The package in the order", 1)[1]
    named = set(re.findall(r"`([a-z0-9_]+)(?:\.py)?`", table)) | set(re.findall(r"`([a-z_]+)/`", table))
    modules = {p.stem for p in PACKAGE.rglob("*.py") if p.stem not in ("__init__", "__main__")}
    assert modules - named == set(), "add these modules to the README's module table"


def test_the_engine_never_imports_the_evaluation():
    for path in ENGINE:
        assert not any(m.startswith("assistant.evaluation") for m in _imports(path)), path


def test_the_engine_names_no_shipped_document():
    from assistant.loaders import iter_corpus_files

    # The documents, not the corpus format's own files (manifest.yaml, out-of-scope examples).
    corpus = {p.relative_to(PROJECT / "corpus").as_posix() for p in iter_corpus_files(PROJECT / "corpus")}
    folders = {name.split("/", 1)[0] + "/" for name in corpus if "/" in name}
    for path in ENGINE:
        source = path.read_text(encoding="utf-8")
        named = [n for n in corpus | folders if f'"{n}' in source or f"'{n}" in source]
        assert not named, f"{path.relative_to(PROJECT)} names the shipped corpus: {named}"
