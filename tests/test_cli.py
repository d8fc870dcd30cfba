"""The ``yizhan`` console script, run as a user would."""

import os
import subprocess
import sys
from pathlib import Path

from geo.settings import PROJECT_ROOT, Settings

YIZHAN = Path(sys.executable).parent / "yizhan"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(YIZHAN), *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def test_help_lists_the_commands() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for word in ("db", "load-sample", "serve", "network", "sample"):
        assert word in out.stdout


def test_db_status_reports_the_embedded_cluster(db_url: str) -> None:
    out = _run("db", "status")
    assert out.returncode == 0, out.stderr
    assert "embedded cluster running" in out.stdout


def test_sample_check_confirms_the_committed_files() -> None:
    out = _run("sample", "generate", "--check")
    assert out.returncode == 0, out.stderr
    assert "exactly what the generator makes" in out.stderr


def test_network_import_of_a_real_fixture(tmp_path: Path, settings: Settings) -> None:
    env = {"YIZHAN_STATE_DIR": str(tmp_path / "state")}
    fixture = PROJECT_ROOT / "data" / "osm_fixtures" / "West-Oakland.osm.bz2"
    out = _run("network", "import", str(fixture), env=env)
    assert out.returncode == 0, out.stderr
    assert "'synthetic': False" in out.stdout
    assert (tmp_path / "state" / "networks" / "ACTIVE").read_text().endswith("West-Oakland.osm.bz2")


def test_a_file_that_cannot_be_built_never_becomes_the_active_network(tmp_path: Path) -> None:
    env = {"YIZHAN_STATE_DIR": str(tmp_path / "state")}
    fixture = PROJECT_ROOT / "data" / "osm_fixtures" / "West-Oakland.osm.bz2"
    assert _run("network", "import", str(fixture), env=env).returncode == 0
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm version='0.6'><node id='1' lat='0' lon='0'/></osm>")  # no roads
    out = _run("network", "import", str(broken), env=env)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "holds no ways tagged highway" in out.stderr
    active = (tmp_path / "state" / "networks" / "ACTIVE").read_text()
    assert active.endswith("West-Oakland.osm.bz2")  # the working network stays
    assert not (tmp_path / "state" / "networks" / "broken.osm").exists()
    assert _run("network", "info", env=env).returncode == 0


def test_network_import_of_a_missing_file_fails_cleanly(tmp_path: Path) -> None:
    out = _run(
        "network",
        "import",
        str(tmp_path / "nope.osm"),
        env={"YIZHAN_STATE_DIR": str(tmp_path / "state")},
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr


def test_version_and_help_read_plainly() -> None:
    out = _run("--version")
    assert out.returncode == 0
    assert out.stdout.strip().startswith("yizhan 0.")
    assert "``" not in _run("--help").stdout


def test_db_status_as_json(db_url: str, settings: Settings) -> None:
    import json

    out = _run("db", "status", "--json", env={"YIZHAN_DATABASE_NAME": settings.database_name})
    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout)
    assert state["cluster"]["running"] is True
    assert "postgis" in json.dumps(state["database"]).lower()


def test_network_info_does_not_rebuild_a_cached_graph(tmp_path: Path) -> None:
    env = {"YIZHAN_STATE_DIR": str(tmp_path / "state")}
    fixture = PROJECT_ROOT / "data" / "osm_fixtures" / "West-Oakland.osm.bz2"
    assert _run("network", "import", str(fixture), env=env).returncode == 0
    info = _run("network", "info", env=env)
    assert info.returncode == 0, info.stderr
    assert "building the graph" not in info.stderr
    assert "'synthetic': False" in info.stdout
