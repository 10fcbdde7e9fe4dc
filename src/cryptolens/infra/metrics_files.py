"""The multiprocess directory: one file per process and metric type, summed at scrape time.

A file is named ``<type>_<process>.db`` (gauges: ``gauge_<mode>_<process>.db``), where the
process is ``<role><pid>``:

- ``web<pid>``: a gunicorn worker (built the web app outside a command); gunicorn's master
  clears them on start and drops a dead worker's live gauges;
- ``rq<worker pid>h<pid>``: a job's work horse, forked by the RQ worker ``<worker pid>``, which
  folds the horse's counters and histograms into ``rq<worker pid>hall`` once the job is done,
  so the directory holds a file per worker, not one per job ever run;
- ``cli<pid>``: any other command (the scheduler running jobs without Redis, ``scan``, the
  development server).

A worker or command starting removes the files of workers and commands that are gone; the
web's go when gunicorn starts (never while a process that writes them runs: its later counts
would go to a deleted file).

A scrape sums each sample over the files first and builds each series once (prometheus-client's
own merge builds a sample per file and series: several times slower with a dozen processes).
Folding rewrites files a scrape reads, so both take a lock on ``.lock`` in the directory (shared
to read, exclusive to fold): a scrape never counts a job twice nor misses it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import mark_process_dead

LOCK_NAME = ".lock"
#: Metric types whose files are summed across processes.
SUMMED = ("counter", "histogram")
_Labels = tuple[tuple[str, str], ...]
WEB_ROLE = "web"
CLI_ROLE = "cli"
#: Roles whose files go once their process (for horses: their worker) is gone.
PID_CHECKED_ROLES = (CLI_ROLE, "rq")
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
    """Every process's recorded counters and histograms, summed across processes."""
    path.mkdir(parents=True, exist_ok=True)
    totals: dict[str, float] = defaultdict(float)
    kinds: dict[str, str] = {}
    with _locked(path, fcntl.LOCK_SH):
        for file in path.glob("*.db"):
            kind = file.name.split("_", 1)[0]
            if kind not in SUMMED:
                continue  # processes here record no gauges: those are read at scrape time
            for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(file)):
                totals[key] += value
                kinds[key] = kind
    return _families(totals, kinds)


def _families(totals: dict[str, float], kinds: dict[str, str]) -> list[Metric]:
    """Metric families from summed samples; a histogram's buckets made cumulative, with
    its ``_count`` (prometheus-client's files hold each bucket's own count)."""
    families: dict[str, Metric] = {}
    buckets: dict[tuple[str, _Labels], list[tuple[float, str, float]]] = defaultdict(list)
    for key, value in totals.items():
        metric_name, name, labels, help_text = _parse(key)
        family = families.get(metric_name)
        if family is None:
            family = families[metric_name] = Metric(metric_name, help_text, kinds[key])
        if name.endswith("_bucket") and "le" in labels:
            le = labels["le"]
            series = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            buckets[(metric_name, series)].append((float(le), le, value))
        else:
            family.add_sample(name, dict(labels), value)
    for (metric_name, series), counts in buckets.items():
        family, running = families[metric_name], 0.0
        for _bound, le, value in sorted(counts):
            running += value
            family.add_sample(f"{metric_name}_bucket", {**dict(series), "le": le}, running)
        family.add_sample(f"{metric_name}_count", dict(series), running)
    return list(families.values())


_parsed: dict[str, tuple[str, str, dict[str, str], str]] = {}
#: Series keys remembered between scrapes; past this many (label churn) the memory starts over.
MAX_PARSED = 100_000


def _parse(key: str) -> tuple[str, str, dict[str, str], str]:
    found = _parsed.get(key)
    if found is None:
        if len(_parsed) >= MAX_PARSED:
            _parsed.clear()
        metric_name, name, labels, help_text = json.loads(key)
        found = _parsed[key] = (metric_name, name, labels, help_text)
    return found


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


def clear_gone(path: Path) -> int:
    """Remove the files of commands and RQ workers (with their horses) no longer running."""
    path.mkdir(parents=True, exist_ok=True)
    removed = 0
    with _locked(path, fcntl.LOCK_EX):
        for file in path.glob("*.db"):
            found = _process_of(file)
            if found is None or found["role"] not in PID_CHECKED_ROLES:
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
