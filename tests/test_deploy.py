"""The deployment files: docker-compose.yml is valid YAML with the services it promises, the
systemd units name the commands that exist, with the hardening they claim, and nginx accepts
the TLS site (when nginx is installed; scripts/check_nginx.sh runs the CI variant for real)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cryptolens.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("cryptolens-web", "cryptolens-worker", "cryptolens-scheduler", "cryptolens-stream")


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / f"{name}.service")
    return parser


def test_compose_runs_postgres_redis_and_the_three_processes() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "scheduler"} <= set(services)
    assert services["worker"]["command"] == ["cryptolens", "worker"]
    assert services["scheduler"]["command"] == ["cryptolens", "scheduler"]
    assert services["stream"]["command"][:2] == ["cryptolens", "stream"]
    assert services["stream"]["ports"] == ["127.0.0.1:5001:5001"]
    for name in ("web", "worker", "scheduler", "stream"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert environment["REDIS_URL"].startswith("redis://redis:")
    assert services["web"]["ports"] == ["127.0.0.1:5000:5000"]


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_runs_a_real_command_hardened(name: str) -> None:
    service = _unit(name)["Service"]
    start = service["ExecStart"]
    if name == "cryptolens-web":
        assert "gunicorn -c python:cryptolens.gunicorn_conf" in start
    else:
        command = start.split("/bin/cryptolens ", 1)[1].split()[0]
        assert command in COMMANDS
    assert service["EnvironmentFile"] == "/etc/cryptolens/cryptolens.env"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/cryptolens"


def test_the_environment_example_keeps_state_where_the_units_may_write() -> None:
    example = (DEPLOY / "systemd" / "cryptolens.env.example").read_text()
    values = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, re.MULTILINE))
    assert values["INSTANCE_DIR"].startswith("/var/lib/cryptolens/")
    assert values["PROMETHEUS_MULTIPROC_DIR"].startswith("/var/lib/cryptolens/")
    assert values["TRUSTED_PROXIES"] == "1"


def test_nginx_body_limit_is_the_apps() -> None:
    from cryptolens.config import Settings

    shared = (DEPLOY / "nginx" / "cryptolens-locations.conf").read_text()
    limit = re.search(r"^client_max_body_size (\d+)m;", shared, re.MULTILINE)
    assert limit is not None
    default = Settings.model_fields["max_request_bytes"].default
    assert int(limit.group(1)) * 1024 * 1024 == default


def test_nginx_accepts_the_tls_site(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    openssl = shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx or openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=example.com", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "cryptolens.conf").read_text()
    site = (
        site.replace("/etc/letsencrypt/live/example.com/fullchain.pem", str(cert))
        .replace("/etc/letsencrypt/live/example.com/privkey.pem", str(key))
        .replace("/etc/nginx/snippets/", f"{DEPLOY / 'nginx'}/")
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ include /etc/nginx/mime.types; include {tmp_path}/site.conf; }}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
