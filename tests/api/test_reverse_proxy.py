"""deploy/nginx-yizhan.conf, as shipped, in front of a live server: TLS, HSTS, the client's
own address at the rate limiter (a spoofed X-Forwarded-For is not believed), public links."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from geo.settings import PROJECT_ROOT, Settings
from tests.api.conftest import OwnDatabase, database_of_its_own, live_server

own, client, engine = database_of_its_own("proxy")
SITE = PROJECT_ROOT / "deploy" / "nginx-yizhan.conf"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def proxied(own: OwnDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx with a self-signed certificate in front of the app; the HTTPS base URL."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is installed by scripts/bootstrap.sh --with-browser"
    tmp = tmp_path_factory.mktemp("nginx")
    tls, plain = _port(), _port()
    base = f"https://localhost:{tls}"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(tmp / "key.pem"),
            "-out",
            str(tmp / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    settings: Settings = own.settings.model_copy(
        update={
            "trusted_proxies": ("127.0.0.1",),
            "public_url": base,
            "rate_limit_per_minute": 6,
            "rate_limit_burst": 3,
        }
    )
    with live_server(settings) as app_url:
        app_port = app_url.rsplit(":", 1)[1]
        site = (
            SITE.read_text()
            .replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{tls} ssl http2;")
            .replace("listen 80;", f"listen 127.0.0.1:{plain};")
            .replace("/etc/ssl/yizhan/fullchain.pem", str(tmp / "cert.pem"))
            .replace("/etc/ssl/yizhan/privkey.pem", str(tmp / "key.pem"))
            .replace("yizhan.example.org", "localhost")
        )
        (tmp / "site.conf").write_text(site)
        user = "user root;" if os.geteuid() == 0 else ""
        temp = " ".join(
            f"{kind}_temp_path {tmp / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (tmp / "nginx.conf").write_text(
            f"{user} worker_processes 1; pid {tmp / 'nginx.pid'}; error_log {tmp / 'error.log'};"
            f" events {{}} http {{ access_log off; {temp} include {tmp / 'site.conf'}; }}"
        )
        server = subprocess.Popen(
            [nginx, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-g", "daemon off;"],
            stderr=subprocess.PIPE,
        )
        try:
            for _ in range(100):
                try:
                    trust = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
                    httpx.get(f"{base}/health/live", verify=trust, timeout=2)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.stderr.read() if server.stderr else ""
                    time.sleep(0.1)
            yield base, ssl.create_default_context(cafile=str(tmp / "cert.pem"))
        finally:
            server.terminate()
            server.wait(10)
            if server.stderr is not None:
                server.stderr.close()


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
