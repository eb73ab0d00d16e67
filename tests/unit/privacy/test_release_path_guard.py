"""Guard: no non-OpenDP randomness and no forbidden OpenDP feature in the release path.

Scans every .py file under privacy/ and service/ (except the synthetic-data generators,
service/synth/ and the synthetic register in service/register/synthetic.py and
partnerships.py, which may use numpy's RNG) with the AST, so docstrings and comments that *name*
the forbidden things do not trip it, but code that uses them does. The scanner itself is
tested on planted lines, so the guard cannot pass by scanning nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from privacy.opendp_setup import FORBIDDEN_FEATURES, REQUIRED_FEATURES
from support.paths import ROOT

FORBIDDEN_MODULES = {"random", "secrets", "numpy.random"}
FLOAT_SAMPLER_METHODS = {
    "rvs", "normal", "laplace", "standard_normal", "gauss", "normalvariate", "gumbel",
    "default_rng", "exponential", "uniform", "randint", "integers",
}
FEATURES_MODULE = "privacy/opendp_setup.py"

#: Narrow, per-file, per-rule exceptions for modules that are not on the noise path:
#: service/api/auth.py draws API-key secrets with `secrets` (a CSPRNG is the right tool for
#: tokens). The synthetic-data generators (service/synth/, and service/register/synthetic.py
#: and partnerships.py, the synthetic PUBLIC school register) are skipped entirely. Any other
#: rule still applies.
ALLOWED: dict[str, set[str]] = {
    "service/api/auth.py": {"secrets"},
}


def scan_source(source: str, path: str = "<string>") -> list[str]:
    """Violations in one module's source, as 'path:line: what'."""
    found: list[str] = []
    tree = ast.parse(source)

    allowed = ALLOWED.get(path, set())

    def hit(node: ast.AST, what: str, rule: str) -> None:
        if rule not in allowed:
            found.append(f"{path}:{getattr(node, 'lineno', 0)}: {what} [{rule}]")

    def module_rule(module: str) -> str:
        return "numpy-rng" if module.startswith("numpy") else module

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in FORBIDDEN_MODULES or alias.name.startswith("numpy.random."):
                    hit(node, f"import {alias.name}", module_rule(alias.name))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module in FORBIDDEN_MODULES or module.startswith("numpy.random"):
                hit(node, f"from {module} import", module_rule(module))
            if module == "numpy" and any(a.name == "random" for a in node.names):
                hit(node, "from numpy import random", "numpy-rng")
        elif isinstance(node, ast.Attribute):
            if node.attr == "random" and isinstance(node.value, ast.Name) and node.value.id in {"np", "numpy"}:
                hit(node, f"{node.value.id}.random", "numpy-rng")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if isinstance(func, ast.Attribute) and name in FLOAT_SAMPLER_METHODS:
                hit(node, f".{name}( sampler call", "sampler")
            if name in {"__import__", "import_module"} and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and arg.value in FORBIDDEN_MODULES:
                    hit(node, f"dynamic import of {arg.value}", module_rule(arg.value))
            if name == "enable_features":
                literals = {a.value for a in node.args if isinstance(a, ast.Constant)}
                if literals & FORBIDDEN_FEATURES:
                    hit(node, f"enable_features({sorted(literals & FORBIDDEN_FEATURES)})", "feature")
                if path != FEATURES_MODULE:
                    hit(node, "enable_features outside privacy/opendp_setup.py", "feature")
    return found


def release_path_files() -> list[Path]:
    files = sorted((ROOT / "privacy").rglob("*.py")) + sorted((ROOT / "service").rglob("*.py"))
    generators = {ROOT / "service/register/synthetic.py", ROOT / "service/register/partnerships.py"}
    return [f for f in files if f not in generators and (ROOT / "service/synth") not in f.parents]


def test_the_release_path_is_clean():
    files = release_path_files()
    assert len(files) >= 8  # privacy/ alone has that many modules: we scan something real
    violations = []
    for f in files:
        violations += scan_source(f.read_text(encoding="utf-8"), f.relative_to(ROOT).as_posix())
    assert violations == []


def test_only_contrib_is_enabled():
    assert REQUIRED_FEATURES == ("contrib",)
    import opendp.mod

    from privacy.opendp_setup import opendp_prelude

    opendp_prelude()
    assert not (set(opendp.mod.GLOBAL_FEATURES) & FORBIDDEN_FEATURES)


@pytest.mark.parametrize(
    "planted",
    [
        "import random",
        "import random as r",
        "from random import randint",
        "import secrets",
        "from secrets import randbelow",
        "import numpy.random",
        "from numpy.random import default_rng",
        "from numpy import random",
        "import numpy as np\nnoise = np.random.laplace(0, 1, 10)",
        "import numpy\nx = numpy.random.normal(size=3)",
        "rng = make()\nx = rng.normal(0, 1)",
        "from scipy.stats import laplace\nx = laplace.rvs(scale=2)",
        "from scipy import stats\nx = stats.norm(0, 1).rvs(5)",
        "m = __import__('random')",
        "import importlib\nm = importlib.import_module('secrets')",
        "import opendp.prelude as dp\ndp.enable_features('honest-but-curious')",
        "import opendp.prelude as dp\ndp.enable_features('contrib', 'floating-point')",
        "from opendp.mod import enable_features\nenable_features('idealized-numerics')",
        "import opendp.prelude as dp\ndp.enable_features('contrib')",  # outside opendp_setup.py
    ],
)
def test_the_scanner_catches_planted_lines(planted):
    assert scan_source(planted, "service/planted.py")


@pytest.mark.parametrize(
    "harmless",
    [
        '"""Noise never comes from `random` or `numpy.random`."""',
        "# np.random.laplace would be a bug here",
        "import numpy as np\nx = np.zeros(3)\ny = np.sort(x)",
        "from scipy.stats import beta\nq = beta.ppf(0.05, 3, 4)",
        "import unicodedata\ns = unicodedata.normalize('NFC', 'x')",
    ],
)
def test_the_scanner_lets_harmless_code_through(harmless):
    assert scan_source(harmless, "privacy/harmless.py") == []


def test_the_allowances_are_narrow():
    assert scan_source("import secrets\nk = secrets.token_hex(8)", "service/api/auth.py") == []
    assert scan_source("import random", "service/api/auth.py")
    assert scan_source("import numpy as np\nx = np.random.laplace(0, 1)", "service/api/auth.py")
    assert scan_source("import secrets", "service/register/source.py")
    assert scan_source("import numpy as np\nr = np.random.default_rng(1)", "service/register/source.py")
    assert scan_source("import numpy as np\nr = np.random.default_rng(1)", "privacy/register.py")


def test_the_features_module_itself_is_allowed_to_enable_contrib():
    source = (ROOT / FEATURES_MODULE).read_text(encoding="utf-8")
    assert scan_source(source, FEATURES_MODULE) == []
    assert "enable_features" in source


def test_privacy_imports_no_web_or_database_layer():
    for f in sorted((ROOT / "privacy").rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in {"fastapi", "starlette", "duckdb"}, (f, name)


def test_privacy_all_names_resolve():
    import privacy

    assert len(privacy.__all__) == len(set(privacy.__all__))
    for name in privacy.__all__:
        assert hasattr(privacy, name), name
