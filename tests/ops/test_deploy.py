"""The deployment files stay in step with the code: every setting reaches the container."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from fazhizhen.settings import Settings
from tests.conftest import ROOT


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_passes_every_setting_to_the_app() -> None:
    env = _compose()["services"]["app"]["environment"]
    expected = {f"FAZHIZHEN_{name.upper()}" for name in Settings.model_fields}
    assert sorted(expected - set(env)) == [], "add these to docker-compose.yml (app.environment)"


def test_compose_app_waits_for_a_healthy_postgres_16_with_a_volume() -> None:
    services = _compose()["services"]
    assert services["db"]["image"] == "postgres:16"
    assert "healthcheck" in services["db"] and services["db"]["volumes"]
    assert services["app"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_dockerfile_is_slim_non_root_and_builds_from_pyproject() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "python:3.11-slim" in text and "COPY pyproject.toml" in text
    assert "\nUSER fazhizhen" in text
    assert "exec fazhizhen serve" in text


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose not installed")
def test_compose_file_validates_offline() -> None:
    res = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env={"POSTGRES_PASSWORD": "ci", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
