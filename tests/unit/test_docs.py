"""The README is the project's front page and the reference lives in docs/: every relative link
(and its #anchor) in README.md and docs/*.md resolves, and the README stays short."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

# A screen of a terminal or an editor: what a new reader sees before scrolling.
SCREEN_LINES = 50
# The README is a front page with a contents list; the reference is in docs/.
README_MAX_CHARS = 8_000

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"`[^`]*`")
_MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)=["']([^"']+)["']""")
_HTML_ANCHOR = re.compile(r"""<a\b[^>]*?\b(?:name|id)=["']([^"']+)["']""")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(path: Path) -> list[str]:
    """The lines of a Markdown file outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text().splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub (and GitLab) give a heading: the text without Markdown marks and
    punctuation, lower case, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(path):
        found.update(_HTML_ANCHOR.findall(line))
        heading = _HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(path: Path) -> list[str]:
    links: list[str] = []
    for line in prose_lines(path):
        links += _HTML_LINK.findall(line)
        # Inside a code span a "](" is text, not a link; the link text may itself be code.
        links += _MD_LINK.findall(_CODE_SPAN.sub("code", line))
    return [link for link in links if not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", link)]


def broken_links(path: Path) -> list[str]:
    broken = []
    for link in relative_links(path):
        target_part, _, anchor = link.partition("#")
        target = (path.parent / target_part).resolve() if target_part else path
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{link}: no such anchor in {os.path.relpath(target, path.parent)}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_check_sees_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A `coded` part: here\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#a-coded-part-here) [ok](#page) [web](https://example.org/x)\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) [`code`](#nor-here)\n"
        "```\n[in a code block](ignored.md)\n```\n"
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nowhere: no such anchor in other.md",
        "#nor-here: no such anchor in page.md",
    ]


def test_the_readme_opening_fits_on_one_screen_and_the_reference_is_in_docs() -> None:
    text = README.read_text()
    opening = text.split("\n## ", 1)[0]
    assert len(opening.splitlines()) <= SCREEN_LINES
    assert len(text) <= README_MAX_CHARS
    linked = {(README.parent / link).resolve() for link in relative_links(README)}
    unlinked = {p.name for p in PAGES[1:] if p.resolve() not in linked}
    assert unlinked == set(), "docs pages the README's contents do not link"


def test_every_setting_is_in_the_configuration_page() -> None:
    from monitor.settings import Settings

    page = (ROOT / "docs" / "configuration.md").read_text()
    assert [f for f in Settings.model_fields if f"`CDI_{f.upper()}`" not in page] == []
