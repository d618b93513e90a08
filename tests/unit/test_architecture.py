"""The domain imports only the standard library; the rules never read the clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import monitor.domain

DOMAIN = Path(monitor.domain.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_domain_imports_nothing_but_the_standard_library_and_itself():
    for path in DOMAIN.glob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("monitor.domain"), (
                f"{path.name} imports {name}"
            )


def test_the_domain_never_reads_the_clock():
    for path in DOMAIN.glob("*.py"):
        text = path.read_text()
        for call in ("datetime.now(", ".utcnow(", "time.time(", "date.today(", "monotonic("):
            assert call not in text, f"{path.name} reads the clock with {call}"
