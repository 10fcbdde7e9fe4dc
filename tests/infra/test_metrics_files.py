"""Multiprocess metrics: processes writing one directory, a scrape summing them, RQ horses
folded into their worker's files, and the directory cleaned as processes start."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

from cryptolens.infra import metrics_files
from tests.builders.metrics import scraped
from tests.builders.settings import TEST_SECRET
from tests.test_cli import _cryptolens

pytestmark = pytest.mark.slow

TOKEN = "scrape-token-0123456789abcdef"

#: One web process: builds the app on the shared directory, answers requests, runs a job,
#: renders a cached section twice, and records a signal, a notification and an exchange
#: error; or, with "scrape", prints what /metrics answers.
PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from cryptolens import create_app
    from cryptolens.extensions import db
    from cryptolens.infra import metrics
    from cryptolens.services.ops.job_runs import recorded_run
    from cryptolens.web.fragments import cached_html
    from tests.builders.settings import make_settings

    mode, database_url, directory, instance = sys.argv[1:5]
    app = create_app(make_settings(
        database_url=database_url, instance_dir=Path(instance),
        prometheus_multiproc_dir=Path(directory), metrics_token=sys.argv[5],
    ))
    client = app.test_client()
    if mode == "scrape":
        answer = client.get("/metrics", headers={"Authorization": "Bearer " + sys.argv[5]})
        assert answer.status_code == 200, answer.status_code
        print(answer.get_data(as_text=True))
    else:
        for _ in range(3):
            assert client.get("/api/health/live").status_code == 200
        with app.app_context():
            with recorded_run(db.engine, "cleanup"):
                pass
            cached_html("matrix_html:x", 60, lambda: "<p>")
            cached_html("matrix_html:x", 60, lambda: "<p>")
            db.engine.dispose()
        metrics.count_signals("binance", 2)
        metrics.count_notifications({"ntfy": 1})
        metrics.count_exchange_error("binance", "fetch_ohlcv", TimeoutError())
    """
)


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.run(
        [sys.executable, "-c", PROCESS, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _write(path: Path, name: str, value: float) -> None:
    """A file as prometheus-client writes it: one counter sample."""
    key = mmap_key(
        "cryptolens_signals", "cryptolens_signals_total", ["exchange"], ["binance"], "Signals."
    )
    file = MmapedDict(str(path / name))
    file.write_value(key, value, 0.0)
    file.close()


def _samples(found: list[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for m in found for s in m.samples}


def _total(path: Path, sample: str, **labels: str) -> float:
    return sum(
        s.value
        for metric in metrics_files.collect(path)
        for s in metric.samples
        if s.name == sample and labels.items() <= s.labels.items()
    )


def test_two_processes_writing_one_directory_are_summed_by_a_scrape(
    database_url: str, tmp_path: Path, migrated_engine: object
) -> None:
    shared = tmp_path / "prometheus"
    for n in range(2):
        done = _python("record", database_url, str(shared), str(tmp_path / f"i{n}"), TOKEN)
        assert done.returncode == 0, done.stderr
    # The scrape's own merge agrees with prometheus-client's, sample for sample.
    theirs = MultiProcessCollector.merge([str(p) for p in shared.glob("*.db")], accumulate=True)
    assert _samples(metrics_files.collect(shared)) == _samples(theirs)
    web_files = sorted(p.name for p in shared.glob("*.db"))
    assert len({name.rsplit("_", 1)[1] for name in web_files}) == 2  # one set per process
    assert all(name.rsplit("_", 1)[1].startswith("web") for name in web_files)

    answer = _python("scrape", database_url, str(shared), str(tmp_path / "s"), TOKEN)
    assert answer.returncode == 0, answer.stderr
    text = answer.stdout
    live = {"method": "GET", "route": "/api/health/live"}
    assert scraped(text, "cryptolens_http_requests_total", status="200", **live) == 6
    assert scraped(text, "cryptolens_http_request_duration_seconds_count", **live) == 6
    assert scraped(text, "cryptolens_signals_total", exchange="binance") == 4
    assert scraped(text, "cryptolens_notifications_sent_total", channel="ntfy") == 2
    assert scraped(text, "cryptolens_cache_misses_total", cache="matrix_html") == 2
    assert scraped(text, "cryptolens_cache_hits_total", cache="matrix_html") == 2
    assert scraped(text, "cryptolens_job_processing_seconds_count", job="cleanup") == 2
    assert scraped(text, "cryptolens_exchange_errors_total", error="TimeoutError") == 2
    # The gauges are computed by the scraping process from the database, once.
    assert scraped(text, "cryptolens_metrics_source_up", source="database") == 1
    assert text.count("# TYPE cryptolens_users_active gauge") == 1


def test_a_worker_folds_each_finished_horse_into_its_own_files(
    database_url: str, tmp_path: Path, redis_url: str, migrated_engine: object
) -> None:
    from redis import Redis
    from rq import Queue

    shared = tmp_path / "prometheus"
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "LOG_LEVEL": "WARNING",
    }
    try:
        queue = Queue("low", connection=redis)
        for _ in range(3):
            queue.enqueue("cryptolens.infra.metrics.count_signals", "binance", 1)
        first = _cryptolens("worker", "--burst", cwd=tmp_path, **env)
        assert first.returncode == 0, first.stderr
        names = sorted(p.name for p in shared.glob("*.db"))
        # Three horses ran; their counts live on in the worker's file, not in one per job.
        assert [n for n in names if n.startswith("counter_")] == [
            n for n in names if n.startswith("counter_") and n.endswith("hall.db")
        ]
        assert len([n for n in names if n.startswith("counter_")]) == 1
        assert _total(shared, "cryptolens_signals_total", exchange="binance") == 3

        queue.enqueue("cryptolens.infra.metrics.count_signals", "binance", 1)
        second = _cryptolens("worker", "--burst", cwd=tmp_path, **env)
        assert second.returncode == 0, second.stderr
    finally:
        redis.flushdb()
    # The first worker is gone: a worker starting cleared its files, as a restart does.
    assert _total(shared, "cryptolens_signals_total", exchange="binance") == 1


def test_folding_keeps_every_count_and_leaves_other_workers_alone(tmp_path: Path) -> None:
    me = os.getpid()
    _write(tmp_path, f"counter_rq{me}h101.db", 2)
    _write(tmp_path, f"counter_rq{me}h102.db", 3)
    _write(tmp_path, f"counter_rq{me}hall.db", 10)
    _write(tmp_path, "counter_rq999999999h5.db", 7)  # another worker's horse
    _write(tmp_path, "counter_web77.db", 1)
    before = _total(tmp_path, "cryptolens_signals_total")
    assert metrics_files.fold_horses(tmp_path, me) == 2
    assert _total(tmp_path, "cryptolens_signals_total") == before == 23
    assert sorted(p.name for p in tmp_path.glob("*.db")) == sorted(
        ["counter_rq999999999h5.db", f"counter_rq{me}hall.db", "counter_web77.db"]
    )


def test_starting_clears_the_restarted_role_and_gone_workers_only(tmp_path: Path) -> None:
    me = os.getpid()
    alive = [f"counter_rq{me}hall.db", f"counter_rq{me}h5.db", f"histogram_cli{me}.db"]
    for name in ("counter_web1.db", "histogram_web2.db", *alive):
        _write(tmp_path, name, 1)
    # A worker (with a horse not yet folded) and a command that are gone.
    for name in (
        "counter_rq999999999hall.db",
        "counter_rq999999999h7.db",
        "counter_cli999999999.db",
    ):
        _write(tmp_path, name, 1)
    assert metrics_files.clear_role(tmp_path, metrics_files.WEB_ROLE) == 2
    assert metrics_files.clear_gone(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.glob("*.db")) == sorted(alive)


def test_gunicorn_clears_the_web_files_on_start_and_drops_a_dead_workers_live_gauges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "counter_web1.db", 1)
    _write(tmp_path, "gauge_livesum_web8.db", 1)
    _write(tmp_path, "counter_rq1hall.db", 1)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    sys.modules.pop("cryptolens.gunicorn_conf", None)
    import cryptolens.gunicorn_conf as conf

    try:
        conf.child_exit(None, type("Worker", (), {"pid": 8})())
        assert not (tmp_path / "gauge_livesum_web8.db").exists()
        assert (tmp_path / "counter_web1.db").exists()
        conf.on_starting(None)
        assert [p.name for p in tmp_path.glob("*.db")] == ["counter_rq1hall.db"]
    finally:
        sys.modules.pop("cryptolens.gunicorn_conf", None)


def _get(port: int, path: str, token: str | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def _web_pids(path: Path) -> set[int]:
    return {
        int(p.name.removesuffix(".db").rsplit("_web", 1)[1]) for p in path.glob("counter_web*.db")
    }


def test_gunicorn_workers_one_killed_and_replaced_are_summed_by_a_scrape(
    database_url: str, tmp_path: Path, migrated_engine: object
) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    _write(shared, "counter_web999999.db", 50)  # a previous run's: gunicorn clears it
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}",
        "CRYPTOLENS_ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "REDIS_URL": "",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "1",  # one at a time, so each request's worker is known
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "METRICS_TOKEN": TOKEN,
    }
    command = [sys.executable, "-m", "gunicorn", "--config", "python:cryptolens.gunicorn_conf"]
    process = subprocess.Popen(
        [*command, "cryptolens:create_app()"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _until_answering(port, process)
        for _ in range(10):
            assert _get(port, "/api/health/live")[0] == 200
        [first] = _web_pids(shared)
        os.kill(first, signal.SIGKILL)  # the master starts another worker
        _until_answering(port, process, not_pid=first, shared=shared)
        for _ in range(5):
            assert _get(port, "/api/health/live")[0] == 200
        status, text = _get(port, "/metrics", TOKEN)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert status == 200
    assert len(_web_pids(shared)) == 2  # the killed worker's file stays in the sums
    live = {"method": "GET", "route": "/api/health/live"}
    answered = scraped(text, "cryptolens_http_requests_total", status="200", **live)
    assert answered >= 15  # polls for the new worker may add a few
    assert scraped(text, "cryptolens_http_requests_total", **live) == answered
    assert not (shared / "counter_web999999.db").exists()


def _until_answering(
    port: int, process: subprocess.Popen[bytes], *, not_pid: int = 0, shared: Path | None = None
) -> None:
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError):
            if _get(port, "/api/health/live")[0] == 200 and (
                shared is None or _web_pids(shared) - {not_pid}
            ):
                return
        assert process.poll() is None, "gunicorn exited"
        assert time.monotonic() < deadline, "gunicorn did not answer"
        time.sleep(0.1)


def test_a_command_running_a_job_records_under_its_own_name_not_the_webs(
    database_url: str, tmp_path: Path, migrated_engine: object
) -> None:
    shared = tmp_path / "prometheus"
    env = {"DATABASE_URL": database_url, "PROMETHEUS_MULTIPROC_DIR": str(shared), "REDIS_URL": ""}
    ran = _cryptolens("jobs", "run", "refresh_stats", cwd=tmp_path, **env)
    assert ran.returncode == 0, ran.stderr
    assert [p.name.split("_")[-1][:3] for p in shared.glob("*.db")] == ["cli"]
    assert metrics_files.clear_role(shared, metrics_files.WEB_ROLE) == 0  # gunicorn's start
    count = "cryptolens_job_processing_seconds_count"
    assert _total(shared, count, job="refresh_stats", status="succeeded") == 1
