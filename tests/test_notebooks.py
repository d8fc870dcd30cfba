"""Every planners' notebook runs top to bottom on the sample (and fails the suite on any error).

The notebooks run in a kernel of this environment against the embedded cluster, in a database
of their own (``YIZHAN_DATABASE_NAME``), so they neither see nor change the test database.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from geo.db.engine import database_url, drop_database
from geo.settings import PROJECT_ROOT, Settings

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
NB_DB = "yizhan_notebooks"


@pytest.fixture(scope="module")
def notebook_env(db_url: str):
    settings = Settings(database_name=NB_DB)
    old = os.environ.get("YIZHAN_DATABASE_NAME")
    os.environ["YIZHAN_DATABASE_NAME"] = NB_DB
    os.environ["MPLBACKEND"] = "Agg"
    yield
    if old is None:
        os.environ.pop("YIZHAN_DATABASE_NAME", None)
    else:
        os.environ["YIZHAN_DATABASE_NAME"] = old
    drop_database(database_url(settings, NB_DB))


def test_there_are_four_notebooks_without_outputs() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_station_finder.ipynb",
        "02_coverage_gaps.ipynb",
        "03_new_sites.ipynb",
        "04_grid_cases.ipynb",
    ]
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, notebook_env) -> None:
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
