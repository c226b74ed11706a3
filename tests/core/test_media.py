"""The data folder's layout has one owner: ``core/media.py`` spells every path under ``settings.data_dir``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "cameras", "ingest", "vision", "store", "ops_api", "vigil", "bench", "scenarios")
# store/embedded.py's ``data_dir`` is the cluster's own folder (``media.database_dir``), laid out by PostgreSQL.
OWNERS = {Path("core/media.py"), Path("store/embedded.py")}
JOINED = re.compile(r"\bdata_dir\)?\s*/")


def test_no_module_but_core_media_joins_a_path_onto_the_data_folder() -> None:
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
             if path.relative_to(ROOT) not in OWNERS
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if JOINED.search(line)]
    assert found == [], "paths under the data folder belong in core/media.py:\n" + "\n".join(found)
