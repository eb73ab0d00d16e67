"""The tests' own house (docs/testing.md): every test module lives in a tier folder, and no
test module imports another test module (what tests share is in tests/support/)."""

from __future__ import annotations

import ast

from support.paths import TESTS

TIER_FOLDERS = {"unit", "integration", "api", "system", "browser", "spark", "statistical"}


def imported_modules(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_every_test_module_is_in_a_tier_folder():
    modules = sorted(TESTS.rglob("test_*.py"))
    assert len(modules) > 70
    outside = [m for m in modules if m.relative_to(TESTS).parts[0] not in TIER_FOLDERS]
    assert not outside, outside


def test_no_test_module_imports_another():
    names = {m.stem for m in TESTS.rglob("test_*.py")}
    offenders = {}
    for module in TESTS.rglob("*.py"):
        wrong = {name for name in imported_modules(module.read_text())
                 if name.split(".")[-1] in names or name.split(".")[0] in names}
        if wrong:
            offenders[str(module.relative_to(TESTS))] = sorted(wrong)
    assert not offenders, offenders


def test_the_import_check_sees_an_import_of_a_test_module():
    assert "test_derive" in imported_modules("from test_derive import Data\n")
    assert "tests.integration.test_derive" in imported_modules(
        "import tests.integration.test_derive\n")
