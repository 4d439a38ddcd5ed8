"""The README is a short front door and the docs hang together.

- README.md has at most 200 lines (everything else lives in docs/);
- every relative link in README.md and docs/*.md reaches an existing file, and every ``#anchor``
  an existing heading of that file (GitHub's slugs);
- the README's command table lists every subcommand that ``monitor/cli.py`` registers.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 200

FENCE = re.compile(r"^ {0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target); the text may hold one level of brackets (a code span, `[x]`).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text, lower case, punctuation and symbols
    dropped (letters, digits, '_', '-' and spaces kept), spaces as '-'."""
    text = LINK.sub(lambda m: m.group(0)[m.group(0).index("[") + 1:m.group(0).rindex("](")], heading)
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = "".join(c for c in text if c.isalnum() or c in "_- ")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def relative_links(path: Path) -> list[str]:
    links = []
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        for match in LINK.finditer(CODE_SPAN.sub("", line)):
            target = match.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:, …
                continue
            links.append(target)
    return links


def test_github_slug_matches_githubs_rules():
    assert github_slug("Where do I add …") == "where-do-i-add-"
    assert github_slug("Probe protocols (`firmware_protocol/`)") == "probe-protocols-firmware_protocol"
    assert github_slug("Di − Dc over time") == "di--dc-over-time"
    assert github_slug("`--json`") == "--json"
    assert github_slug("Benchmarks: one command") == "benchmarks-one-command"


def test_the_readme_is_a_front_door_of_at_most_200_lines():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines; keep it to {MAX_README_LINES} and move detail into docs/")


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_a_heading(page: Path):
    assert DOCS, "no docs/*.md found"
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / unquote(file_part)).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
            continue
        if anchor:
            if dest.suffix != ".md":
                broken.append(f"{target}: an anchor into a file that is not Markdown")
            elif unquote(anchor).lower() not in anchors(dest):
                broken.append(f"{target}: no heading '#{anchor}' in {dest.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)} has broken links:\n" + "\n".join(broken)


def _registered_subcommands() -> set[str]:
    """Every subcommand the command line registers, from the parser `monitor/cli.py` builds."""
    from monitor.cli import build_parser

    parser = build_parser()
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(subparsers) == 1, "monitor/cli.py no longer has one set of subcommands"
    return set(subparsers[0].choices)


def _command_table() -> list[str]:
    """The first cell of each row of the README's command table (the table under '## Commands')."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Commands\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match is not None, "README.md has no '## Commands' section"
    rows = [line for line in match.group(1).splitlines() if line.startswith("| `sympatherm")]
    assert rows, "the '## Commands' section has no command table"
    return [re.split(r"(?<!\\)\|", row)[1].strip().strip("`") for row in rows]


def test_the_command_table_lists_every_subcommand_the_cli_registers():
    registered = _registered_subcommands()
    assert len(registered) >= 5, f"found only {sorted(registered)}: has the way cli.py registers them changed?"
    listed = {cell.split()[1] for cell in _command_table() if len(cell.split()) > 1}
    assert registered <= listed, f"missing from the README's command table: {sorted(registered - listed)}"
    assert listed <= registered, f"in the README's command table but not a subcommand: {sorted(listed - registered)}"
    assert "sympatherm" in _command_table(), "plain `sympatherm` (the application) is not in the command table"
