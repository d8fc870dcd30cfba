from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, NestedTransaction, text

from api.app import create_app
from api.deps import db_connection
from cli.server import server_config
from geo.db.connection import make_engine
from geo.settings import Settings
from tests.conftest import copied_database, worker_database


@pytest.fixture(scope="session")
def session_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The app on the test database and the central-Jiangmen network, graph loaded."""
    with TestClient(create_app(settings)) as c:
        c.app.state.platform.roads.wait(300)
        assert c.app.state.platform.roads.status == "ok", c.app.state.platform.roads.error
        yield c


@pytest.fixture(scope="session")
def client(session_client: TestClient) -> TestClient:
    """The session's app (what a test writes stays: clean up, or use ``rolled_back``)."""
    return session_client


@dataclass(frozen=True)
class RolledBack:
    """The app (``client``) and the test's connection (``conn``: sees what requests wrote)."""

    client: TestClient
    conn: Connection


@contextmanager
def one_connection(client: TestClient, engine: Engine) -> Iterator[RolledBack]:
    """Every request of the app on one connection in a transaction, rolled back at the end.

    The geoalchemy2 shape: the connection holds a transaction; each request works in a
    SAVEPOINT on it, so a handler's commit releases its savepoint (the next request sees the
    change) and its rollback returns to it, as a request's own connection would. Nothing
    reaches the database for good. For API tests that need no background worker of the app
    (those read on connections of their own and would not see an uncommitted row).
    """
    app = client.app
    with engine.connect() as conn:
        outer = conn.begin()
        current: list[NestedTransaction] = []

        def commit() -> None:
            current.pop().commit()
            current.append(conn.begin_nested())

        def rollback() -> None:
            current.pop().rollback()
            current.append(conn.begin_nested())

        conn.commit = commit  # type: ignore[method-assign]
        conn.rollback = rollback  # type: ignore[method-assign]

        def request_connection() -> Iterator[Connection]:
            current.append(conn.begin_nested())
            try:
                yield conn
            finally:  # what the request did not commit is lost, as when its connection closes
                left = current.pop()
                if left.is_active:
                    left.rollback()

        app.dependency_overrides[db_connection] = request_connection
        try:
            yield RolledBack(client, conn)
        finally:
            app.dependency_overrides.pop(db_connection, None)
            outer.rollback()


@pytest.fixture(scope="module")
def module_rolled_back(session_client: TestClient, engine: Engine) -> Iterator[RolledBack]:
    """:func:`one_connection` for a module: what its fixtures write, its tests see."""
    with one_connection(session_client, engine) as rb:
        yield rb


def on_one_connection() -> tuple[Any, Any]:
    """Fixtures ``client`` and ``db`` for a module on the session's app and one connection.

    What the module's fixtures and tests write is rolled back after the module (``db`` sees
    it meanwhile) — ``client, db = on_one_connection()``.
    """

    @pytest.fixture(scope="module")
    def client(module_rolled_back: RolledBack) -> TestClient:
        return module_rolled_back.client

    @pytest.fixture(scope="module")
    def db(module_rolled_back: RolledBack) -> Connection:
        return module_rolled_back.conn

    return client, db


@pytest.fixture
def rolled_back(module_rolled_back: RolledBack) -> Iterator[RolledBack]:
    """The module's one connection, with what this test writes rolled back after it."""
    test = module_rolled_back.conn.begin_nested()
    try:
        yield module_rolled_back
    finally:
        if test.is_active:
            test.rollback()


@pytest.fixture
def staff_headers(client: TestClient) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def cleanup_api_stations(client: TestClient, engine: Engine) -> Iterator[None]:
    """Remove stations the test created through the API, from the database and the engine."""
    yield
    with engine.begin() as conn:
        ids = list(conn.scalars(text("DELETE FROM stations WHERE source = 'api' RETURNING id")))
    for i in ids:
        client.app.state.platform.routing.fields.remove(i)


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The app served by a real uvicorn server on loopback, as ``yizhan serve`` serves it."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(
        server_config(app, settings, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            health = httpx.get(f"{url}/health", timeout=2)
            drawn = health.json().get("basemap", {}).get("status") in ("ok", "error")
            if health.status_code == 200 and (drawn or not settings.basemap):
                break  # ready, with its basemap (pages show streets from the first tile)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    else:
        raise RuntimeError("live server did not start")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def live_url(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app on the session's database, served by a real uvicorn server, for outside clients."""
    with live_server(settings) as url:
        yield url


@dataclass
class OwnDatabase:
    """A module's own copy of the sample database, its settings, engine and app client."""

    settings: Settings
    engine: Engine
    client: TestClient


@contextmanager
def own_database(
    settings: Settings,
    template_url: str,
    name: str,
    *,
    raise_server_exceptions: bool = True,
    **changes: Any,
) -> Iterator[OwnDatabase]:
    """A copy of the template database for one test module, with the app on it."""
    db = worker_database(f"yizhan_test_{name}")
    with copied_database(settings, template_url, db) as url:
        update: dict[str, Any] = {"database_name": db, **changes}
        if settings.database_url:
            update["database_url"] = url
        own = settings.model_copy(update=update)
        eng = make_engine(url)
        try:
            app = create_app(own)
            with TestClient(app, raise_server_exceptions=raise_server_exceptions) as c:
                c.app.state.platform.roads.wait(300)
                yield OwnDatabase(own, eng, c)
        finally:
            eng.dispose()


def wait_until(page: Any, expression: str, timeout_s: float = 15.0) -> None:
    """Poll ``expression`` in the page until it is true.

    (``page.wait_for_function`` compiles its predicate with ``eval``, which the pages'
    Content-Security-Policy forbids — as it should.)
    """
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


def database_of_its_own(name: str, **changes: Any) -> tuple[Any, Any, Any]:
    """Fixtures ``own``, ``client`` and ``engine`` for a module that writes cases or users.

    The module works on its own copy of the sample database (dropped afterwards), so what
    it writes never needs deleting — ``own, client, engine = database_of_its_own("cases")``.
    """

    @pytest.fixture(scope="module")
    def own(settings: Settings, template_url: str) -> Iterator[OwnDatabase]:
        with own_database(settings, template_url, name, **changes) as db:
            yield db

    @pytest.fixture(scope="module")
    def client(own: OwnDatabase) -> TestClient:
        return own.client

    @pytest.fixture(scope="module")
    def engine(own: OwnDatabase) -> Engine:
        return own.engine

    return own, client, engine


def sign_in(browser: TestClient, username: str, password: str, **params: str) -> Any:
    """Sign in through the workbench's form as a browser does: get the form, post it back."""
    import re

    form = browser.get("/manager", params=params)
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found, form.text[:300]
    return browser.post(
        "/manager/login",
        params=params,
        data={"username": username, "password": password, "csrf": found.group(1)},
        follow_redirects=False,
    )


def workbench_page(
    context: Any, url: str, username: str, password: str, *, ready: str = "[data-role=cases] li"
) -> Any:
    """A page of ``context`` signed in to the workbench through its form, once ``ready`` shows.

    The page's script errors and dialogs are gathered in ``page.errors``.
    """
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: errors.append(f"dialog {d.message}"))
    page.goto(f"{url}/manager")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector(ready, timeout=15_000)
    page.errors = errors
    return page
