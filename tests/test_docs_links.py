"""The README and the docs pages point at things that exist: every relative link (and its
anchor, for a Markdown page) and every repository path written in backticks or in a code
block, but for the outputs that runs create. The README stays short, and the command-line page
names every verb."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
from cli_helpers import REPO

from isdarts.cli import build_parser

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 160

# What runs, the tests or `make` create: named in the pages, absent from a fresh clone.
OUTPUTS = (
    ".venv",
    "data",
    "data/*",
    "results",
    "results/*",
    "logs",
    "logs/*",
    "reports/smoke",
    "reports/smoke/*",
    "reports/paper",
    "reports/paper/*",
    "reports/cpu/baselines",
    "reports/cpu/baselines/*",
    "reports/*/report-*.html",
)
# Bare file names of these kinds are source files and must exist somewhere in the repository;
# other bare names (`result.json`, `g.json`) are what runs write or examples.
SOURCE_EXTENSIONS = (".py", ".smk", ".sh", ".yaml", ".yml", ".toml", ".rst")
SKIPPED_DIRS = {".git", ".venv", "data", "results", "logs", ".snakemake", "__pycache__"}
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def top_level() -> set[str]:
    return {p.name for p in REPO.iterdir() if not p.name.startswith(".")} | {".ci"}


def repo_files() -> set[str]:
    names: set[str] = set()
    for p in REPO.rglob("*"):
        if p.is_file() and not SKIPPED_DIRS & set(p.relative_to(REPO).parts):
            names.add(p.name)
    return names


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def is_output(path: str) -> bool:
    path = path.rstrip("/")
    return any(fnmatch.fnmatch(path, pattern) for pattern in OUTPUTS)


def tokens(text: str):
    """Every whitespace-separated word of the page's code spans and code blocks."""
    for block in FENCE.findall(text):
        yield from block.split()
    for span in CODE_SPAN.findall(FENCE.sub("", text)):
        yield from span.split()


def candidate(word: str) -> str | None:
    """``word`` as a repository path to check, or None when it is not one."""
    word = word.strip("'\",;:()[]")
    word = word.split("=", 1)[1] if re.match(r"^-{0,2}[A-Za-z_]+=", word) else word
    if not word or any(c in word for c in "<>*{}$~|\\") or word.startswith(("/", "-", "http")):
        return None
    first = word.split("/")[0]
    if "/" in word or first in top_level():
        return word if first in top_level() else None
    if word.endswith(SOURCE_EXTENSIONS) and not re.fullmatch(r"[A-Z_]+\.\w+", word):
        return word
    return None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_exists(page: Path) -> None:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    missing = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            missing.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            missing.append(f"{target} (no such heading)")
    assert not missing, f"{page.name}: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_repository_path_in_backticks_exists(page: Path) -> None:
    names = repo_files()
    missing = []
    for word in tokens(page.read_text(encoding="utf-8")):
        path = candidate(word)
        if path is None or is_output(path):
            continue
        if "/" in path or path in top_level():
            if not (REPO / path).exists():
                missing.append(path)
        elif path not in names:
            missing.append(path)
    assert not missing, f"{page.name}: {sorted(set(missing))}"


def test_the_readme_is_short_and_names_the_test_command() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < README_MAX_LINES
    assert "`make test`" in text  # CI (.ci/run) calls the README's test command


def test_the_command_line_page_names_every_verb() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "verb")
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert [v for v in sub.choices if f"`{v}" not in text and f" `{v}`" not in text] == []


def test_the_checks_catch_what_they_should(tmp_path) -> None:
    assert candidate("CONFIG=config/smoke.yaml") == "config/smoke.yaml"
    assert candidate("isdarts/search/methods.py") == "isdarts/search/methods.py"
    assert candidate("engines.py") == "engines.py" and "engines.py" not in repo_files()
    assert candidate("reports/<profile>/") is None and candidate("FILE.yaml") is None
    assert candidate("result.json") is None
    assert candidate("runs/is0") is None and is_output("results/cpu/")
    assert slug("Baselines at `cpu-n1`") == "baselines-at-cpu-n1"
