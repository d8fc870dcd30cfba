"""deploy/nginx-yizhan.conf, as shipped, made local: nginx with a self-signed certificate in
front of an app already served on loopback (the reverse-proxy tests and the tile benchmark)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from geo.settings import PROJECT_ROOT

SITE = PROJECT_ROOT / "deploy" / "nginx-yizhan.conf"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and its key, valid for a day."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def local_site(app_port: int, tls_port: int, plain_port: int, folder: Path) -> str:
    """The shipped site file with this machine's ports, certificate and cache folder."""
    cert, key = self_signed(folder)
    return (
        SITE.read_text()
        .replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
        .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;")
        .replace("listen 80;", f"listen 127.0.0.1:{plain_port};")
        .replace("/etc/ssl/yizhan/fullchain.pem", str(cert))
        .replace("/etc/ssl/yizhan/privkey.pem", str(key))
        .replace("/var/cache/nginx/yizhan", str(folder / "cache"))
        .replace("yizhan.example.org", "localhost")
    )


@contextmanager
def nginx_in_front(
    app_url: str, folder: Path, *, tls_port: int | None = None
) -> Iterator[tuple[str, ssl.SSLContext, Path]]:
    """nginx, as shipped, in front of ``app_url`` (HTTPS on ``tls_port``, default any free
    port): the HTTPS base URL, a context trusting its certificate, and the certificate's file."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is installed by scripts/bootstrap.sh --with-browser"
    tls, plain = tls_port or free_port(), free_port()
    base = f"https://localhost:{tls}"
    app_port = int(app_url.rsplit(":", 1)[1])
    (folder / "site.conf").write_text(local_site(app_port, tls, plain, folder))
    user = "user root;" if os.geteuid() == 0 else ""
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"{user} worker_processes 1; pid {folder / 'nginx.pid'}; error_log {folder / 'error.log'};"
        f" events {{}} http {{ access_log off; {temp} include {folder / 'site.conf'}; }}"
    )
    server = subprocess.Popen(
        [nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    trust = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health/live", verify=trust, timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
        yield base, trust, folder / "cert.pem"
    finally:
        server.terminate()
        server.wait(10)
        if server.stderr is not None:
            server.stderr.close()
