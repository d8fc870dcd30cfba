"""The ``yizhan`` console script, run as a user would."""

import shutil
import subprocess
from pathlib import Path

import pytest

from geo.settings import PROJECT_ROOT, Settings
from tests.conftest import run_yizhan


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_yizhan(*args, env=env, timeout=300)


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


@pytest.mark.slow
def test_network_import_of_a_real_fixture(tmp_path: Path, settings: Settings) -> None:
    env = {"YIZHAN_STATE_DIR": str(tmp_path / "state")}
    fixture = PROJECT_ROOT / "data" / "osm_fixtures" / "West-Oakland.osm.bz2"
    out = _run("network", "import", str(fixture), env=env)
    assert out.returncode == 0, out.stderr
    assert "'synthetic': False" in out.stdout
    assert (tmp_path / "state" / "networks" / "ACTIVE").read_text().endswith("West-Oakland.osm.bz2")


@pytest.mark.slow
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


@pytest.mark.slow
def test_network_info_does_not_rebuild_a_cached_graph(tmp_path: Path) -> None:
    env = {"YIZHAN_STATE_DIR": str(tmp_path / "state")}
    fixture = PROJECT_ROOT / "data" / "osm_fixtures" / "West-Oakland.osm.bz2"
    assert _run("network", "import", str(fixture), env=env).returncode == 0
    info = _run("network", "info", env=env)
    assert info.returncode == 0, info.stderr
    assert "building the graph" not in info.stderr
    assert "'synthetic': False" in info.stdout


UNREACHABLE = {"YIZHAN_DATABASE_URL": "postgresql://owner:Sup3rSecretPw@127.0.0.1:9/yz"}


def test_an_unreachable_database_is_one_sentence_without_the_password() -> None:
    out = _run("db", "migrate", env=UNREACHABLE)
    assert out.returncode == 1
    said = out.stdout + out.stderr
    assert "Traceback" not in said
    assert "Sup3rSecretPw" not in said
    assert "the database does not answer" in said
    assert len(out.stderr.strip().splitlines()) == 1


def test_messages_are_chinese_with_lang_and_debug_shows_the_traceback() -> None:
    zh = _run("--lang", "zh", "db", "migrate", env=UNREACHABLE)
    assert "数据库无法连接" in zh.stderr
    by_locale = _run("db", "migrate", env={**UNREACHABLE, "LANG": "zh_CN.UTF-8"})
    assert "数据库无法连接" in by_locale.stderr
    debug = _run("--debug", "db", "migrate", env=UNREACHABLE)
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr


def test_a_bad_setting_is_named_without_its_value() -> None:
    out = _run("db", "migrate", env={"YIZHAN_MODE": "production", "YIZHAN_SECRET_KEY": "aaaa"})
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "a setting is not valid" in out.stderr
    assert "aaaa" not in out.stderr


@pytest.mark.slow
def test_network_prepare_builds_the_cached_files_a_first_start_needs(tmp_path: Path) -> None:
    """``yizhan network prepare`` leaves the graph's arrays and the basemap in the cache, so
    the first start is as quick as the next; asked again it finds them."""
    state = tmp_path / "state"
    env = {"YIZHAN_STATE_DIR": str(state)}
    fixture = PROJECT_ROOT / "data" / "osm_fixtures" / "West-Oakland.osm.bz2"
    assert _run("network", "import", str(fixture), env=env).returncode == 0
    (compiled,) = (state / "cache").glob("*.arrays")
    for old in (state / "cache").glob("*"):  # as a server would find it after an upgrade
        if old.is_file():
            old.unlink()
        elif old.suffix == ".arrays":
            shutil.rmtree(old)
    earlier = compiled.stem.rpartition("-c")[0] + "-c1"  # what an earlier version compiled
    for suffix in (".npz", ".json"):
        (state / "cache" / f"{earlier}{suffix}").write_text("stale")
    out = _run("network", "prepare", env=env)
    assert out.returncode == 0, out.stderr
    assert "prepared West-Oakland.osm.bz2" in out.stderr
    kept = sorted(p.suffix for p in (state / "cache").glob("*"))
    assert ".arrays" in kept
    assert ".gpkg" in kept
    assert not list((state / "cache").glob(f"{earlier}.*"))  # an upgrade leaves nothing stale
    (graph,) = (state / "cache").glob("*.arrays")
    derived = {p.name.rsplit("-", 1)[0] for p in (graph / "derived").iterdir()}
    for kind in ("view-walk", "view-e_bike", "view-drive", "grid", "edge-coords", "road-points"):
        assert kind in derived  # a first start maps them as every later one does
    again = _run("network", "prepare", env=env)
    assert again.returncode == 0
    assert "road nodes" in again.stderr


def test_network_prepare_never_builds_the_sample_in_production(tmp_path: Path) -> None:
    env = {
        "YIZHAN_STATE_DIR": str(tmp_path / "state"),
        "YIZHAN_MODE": "production",
        "YIZHAN_SECRET_KEY": "q7Rk2fX9vLp0sT4wYb1nE5mZc8HdJ3gUaW6",
        "YIZHAN_ADMIN_PASSWORD": "a-strong-passphrase-7",
        "YIZHAN_DATABASE_URL": "postgresql://owner:pw@127.0.0.1:9/union",  # not asked: no database
    }
    out = _run("network", "prepare", env=env)
    assert out.returncode == 1
    assert "never served in production" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "state" / "networks").exists() or not any(
        (tmp_path / "state" / "networks").iterdir()
    )
