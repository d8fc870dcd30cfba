import pytest
from pydantic import ValidationError

from geo.settings import Settings

#: a production secret key as `openssl rand -base64` makes one
RANDOM_KEY = "q7Rk2fX9vLp0sT4wYb1nE5mZc8HdJ3gUaW6"


def test_environment_prefix_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIZHAN_DATABASE_URL", "postgresql://u@db.example/yz")
    monkeypatch.setenv("YIZHAN_REGION", "jiangmen")
    s = Settings()
    assert s.database_url == "postgresql://u@db.example/yz"
    assert not s.embedded


def test_development_needs_no_secrets() -> None:
    s = Settings(mode="development", database_url=None)
    assert s.embedded


def test_production_refuses_missing_secrets() -> None:
    with pytest.raises(ValidationError, match="YIZHAN_SECRET_KEY"):
        Settings(mode="production", database_url="postgresql://x@h/d", admin_password="s3cret-long")


def test_production_refuses_well_known_passwords() -> None:
    with pytest.raises(ValidationError, match="well-known default"):
        Settings(
            mode="production",
            database_url="postgresql://x@h/d",
            secret_key=RANDOM_KEY,
            admin_password="admin",
        )


def test_production_with_secrets_is_accepted() -> None:
    s = Settings(
        mode="production",
        database_url="postgresql://x@h/d",
        secret_key=RANDOM_KEY,
        admin_password="a-long-passphrase",
    )
    assert s.mode == "production"


def test_the_riders_cut_offs_are_minutes_per_known_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIZHAN_RIDER_CUTOFF_MIN", '{"walk": 15}')
    settings = Settings()
    assert settings.rider_cutoff_s("walk") == 15 * 60
    assert settings.rider_cutoff_s("e_bike") == 30 * 60  # the default for a profile not named
    for bad in ({"boat": 10}, {"walk": 0}, {"drive": 601}):
        with pytest.raises(ValueError, match="YIZHAN_RIDER_CUTOFF_MIN"):
            Settings(rider_cutoff_min=bad)


def test_the_unions_own_deadlines_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIZHAN_CASE_DEADLINES", '{"wage_arrears": [12, 15]}')
    assert Settings().case_deadlines == {"wage_arrears": (12.0, 15.0)}
    for bad in ({"no_such_category": (12, 15)}, {"wage_arrears": (0, 15)}, {"other": (12, 0)}):
        with pytest.raises(ValidationError, match="YIZHAN_CASE_DEADLINES"):
            Settings(case_deadlines=bad)
