"""The multiprocess directory: one file per process and metric type, summed at scrape time.

A file is named ``<type>_<process>.db`` (gauges: ``gauge_<mode>_<process>.db``), where the
process is ``<role><pid>``:

- ``web<pid>``: a gunicorn worker (or any process that built the web app); gunicorn's master
  clears them on start and drops a dead worker's live gauges;
- ``rq<worker pid>h<pid>``: a job's work horse, forked by the RQ worker ``<worker pid>``, which
  folds the horse's counters and histograms into ``rq<worker pid>hall`` once the job is done,
  so the directory holds a file per worker, not one per job ever run; a worker starting
  removes the files of workers that are gone.

Folding rewrites files a scrape reads, so both take a lock on ``.lock`` in the directory
(shared to read, exclusive to fold): a scrape never counts a job twice nor misses it.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

LOCK_NAME = ".lock"
WEB_ROLE = "web"
_PROCESS = re.compile(r"^(?P<role>[a-z]+)(?P<pid>\d+)(?:h(?P<horse>\d+|all))?$")


def horse_role(worker_pid: int) -> str:
    """The role a worker's horses record under (their pid follows it)."""
    return f"rq{worker_pid}h"


@contextmanager
def _locked(path: Path, mode: int) -> Iterator[None]:
    with open(path / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _process_of(file: Path) -> re.Match[str] | None:
    return _PROCESS.match(file.name.removesuffix(".db").rsplit("_", 1)[-1])


def collect(path: Path) -> list[Metric]:
    """Every process's recorded metrics, summed."""
    path.mkdir(parents=True, exist_ok=True)
    with _locked(path, fcntl.LOCK_SH):
        files = sorted(str(f) for f in path.glob("*.db"))
        merged: list[Metric] = MultiProcessCollector.merge(files, accumulate=True)
    return merged


def clear_role(path: Path, role: str) -> int:
    """Remove the files of every process of ``role`` (a restart of them all); returns how many."""
    path.mkdir(parents=True, exist_ok=True)
    removed = 0
    with _locked(path, fcntl.LOCK_EX):
        for file in path.glob("*.db"):
            found = _process_of(file)
            if found is not None and found["role"] == role:
                file.unlink(missing_ok=True)
                removed += 1
    return removed


def mark_dead(path: Path, role: str, pid: int) -> None:
    """Drop a dead process's live gauges (its counters keep counting in the sums)."""
    mark_process_dead(f"{role}{pid}", str(path))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_gone_workers(path: Path) -> int:
    """Remove the files of RQ workers (and their horses) that are no longer running."""
    path.mkdir(parents=True, exist_ok=True)
    removed = 0
    with _locked(path, fcntl.LOCK_EX):
        for file in path.glob("*.db"):
            found = _process_of(file)
            if found is None or found["role"] != "rq" or found["horse"] is None:
                continue
            if not _alive(int(found["pid"])):
                file.unlink(missing_ok=True)
                removed += 1
    return removed


def fold_horses(path: Path, worker_pid: int) -> int:
    """Add the counters and histograms of worker ``worker_pid``'s finished horses into its
    ``hall`` files and remove the horses' files; returns how many files were folded."""
    folded = 0
    with _locked(path, fcntl.LOCK_EX):
        for file in sorted(path.glob("*.db")):
            found = _process_of(file)
            if (
                found is None
                or found["role"] != "rq"
                or int(found["pid"]) != worker_pid
                or found["horse"] in (None, "all", str(worker_pid))
            ):
                continue
            kind = file.name.split("_", 1)[0]
            if kind in ("counter", "histogram"):
                _add_into(file, path / f"{kind}_{horse_role(worker_pid)}all.db")
            file.unlink(missing_ok=True)
            folded += 1
    return folded


def _add_into(source: Path, target: Path) -> None:
    into = MmapedDict(str(target))
    try:
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(source)):
            before, _ = into.read_value(key)
            into.write_value(key, before + value, 0.0)
    finally:
        into.close()
