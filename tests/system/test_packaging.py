"""The wheel the Dockerfile installs (`pip install .`) carries every module and data file."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from support.paths import ROOT


def test_wheel_contains_every_module_sql_file_and_static_asset(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("aanwezig-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = [p.relative_to(ROOT).as_posix() for pattern in
              ("service/**/*.py", "privacy/**/*.py", "sql/*.sql", "service/data/geo/*",
               "service/static/**/*.*")
              for p in ROOT.glob(pattern) if "__pycache__" not in p.parts]
    missing = sorted(set(wanted) - names)
    assert not missing, missing
    assert "service/api/routes/releases.py" in names and "sql/schema.sql" in names
