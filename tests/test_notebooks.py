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

from geo.db.connection import database_url, drop_database
from geo.platform import SCRATCH_SUFFIX, scratch_settings
from geo.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.notebook

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
    drop_database(database_url(settings, NB_DB + SCRATCH_SUFFIX))


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
    # maps carry Leaflet inline: they draw in Jupyter, where no app serves /maps/assets
    pages = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    maps = [html for html in pages if "leaflet" in html.lower()]
    assert maps or not any("base_map(" in c.source for c in book.cells)
    assert all("/maps/assets/" not in html for html in maps)
    assert all("data:text/javascript;base64," in html for html in maps)


def test_notebooks_never_write_into_the_services_database() -> None:
    service = Settings(database_name="yizhan")
    assert scratch_settings(service).database_name == "yizhan_notebook"
    external = Settings(database_url="postgresql://u:p@db.example/union")
    assert scratch_settings(external).database_url.endswith("/union_notebook")
    assert scratch_settings(scratch_settings(service)) == scratch_settings(service)
