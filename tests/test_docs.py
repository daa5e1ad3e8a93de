"""The docs site: every page in the nav exists, and relative links between pages resolve."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_nav_pages_exist_and_every_page_is_in_the_nav() -> None:
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    pages = {next(iter(entry.values())) for entry in nav}
    on_disk = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages <= on_disk, f"missing pages: {pages - on_disk}"
    linked_only = on_disk - pages
    for page in linked_only:  # pages outside the nav must at least be linked from one
        assert any(page in p.read_text() for p in (ROOT / "docs").glob("*.md")), page


def test_relative_links_resolve() -> None:
    for page in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
