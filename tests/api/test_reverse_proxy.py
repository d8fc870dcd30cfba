"""deploy/nginx-yizhan.conf, as shipped, in front of a live server: TLS, HSTS, the client's
own address at the rate limiter (a spoofed X-Forwarded-For is not believed), public links."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from geo.settings import PROJECT_ROOT, Settings
from tests.api.conftest import OwnDatabase, database_of_its_own, live_server
from tests.nginx import free_port, nginx_in_front

own, client, engine = database_of_its_own("proxy")


@pytest.fixture(scope="module")
def proxied(own: OwnDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """nginx, as shipped, in front of the app; the HTTPS base URL and a trusting context."""
    tmp = tmp_path_factory.mktemp("nginx")
    port = free_port()  # nginx's, known to the app before it starts (its public links)
    settings: Settings = own.settings.model_copy(
        update={
            "trusted_proxies": ("127.0.0.1",),
            "public_url": f"https://localhost:{port}",
            "rate_limit_per_minute": 6,
            "rate_limit_burst": 3,
        }
    )
    with (
        live_server(settings) as app_url,
        nginx_in_front(app_url, tmp, tls_port=port) as (
            base,
            trust,
            _,
        ),
    ):
        yield base, trust


def test_https_answers_with_hsts_and_links_use_the_public_url(proxied) -> None:
    base, cert = proxied
    r = httpx.get(f"{base}/ogc", verify=cert)
    assert r.status_code == 200
    assert r.headers["strict-transport-security"].startswith("max-age=")
    hrefs = [link["href"] for link in r.json()["links"]]
    assert hrefs
    assert all(h.startswith(base) for h in hrefs), hrefs


def test_the_rate_limiter_counts_the_real_client_not_a_spoofed_header(proxied) -> None:
    base, cert = proxied
    near = {"lat": 22.58, "lon": 113.08}
    with httpx.Client(verify=cert) as one:
        codes = [
            one.get(
                f"{base}/v1/stations/nearest",
                params=near,
                headers={"X-Forwarded-For": f"10.9.{i}.1"},  # a new address each time: a lie
            ).status_code
            for i in range(8)
        ]
    assert 429 in codes, codes  # the lie was not believed: one client, limited
    other = httpx.HTTPTransport(local_address="127.0.0.2", verify=cert)
    with httpx.Client(transport=other) as two:  # another real client, through the same proxy
        assert two.get(f"{base}/v1/stations/nearest", params=near).status_code == 200


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    """deploy/*.service and *.timer, as shipped, pointed at this checkout instead of /opt/yizhan."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian's systemd package) checks the units"
    units = sorted(
        [
            *PROJECT_ROOT.joinpath("deploy").glob("*.service"),
            *PROJECT_ROOT.joinpath("deploy").glob("*.timer"),
        ]
    )
    assert {u.name for u in units} >= {"yizhan.service", "yizhan-dask-worker.service"}
    for unit in units:
        (tmp_path / unit.name).write_text(
            unit.read_text().replace("/opt/yizhan", str(PROJECT_ROOT))
        )
    done = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / u.name) for u in units)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "yizhan" not in done.stderr, done.stderr


def test_nginx_keeps_the_basemaps_tiles_so_repeats_never_reach_the_app(proxied) -> None:
    base, cert = proxied
    url = f"{base}/ogc/tiles/WebMercatorQuad/12/1784/3334"
    with httpx.Client(verify=cert) as one:
        first = one.get(url, headers={"Accept-Encoding": "gzip"})
        assert first.status_code == 200, first.text
        again = one.get(url, headers={"Accept-Encoding": "gzip"})
        plain = one.get(url, headers={"Accept-Encoding": "identity"})
    assert first.headers["x-cache-status"] in ("MISS", "EXPIRED")
    assert again.headers["x-cache-status"] == "HIT"
    assert again.content == first.content
    assert again.headers["content-encoding"] == "gzip"
    assert again.headers["etag"] == first.headers["etag"]
    assert "content-encoding" not in plain.headers  # the plain copy is kept apart (Vary)
    assert plain.content == first.content  # httpx decoded the gzip one: the same tile
