"""Collection folders: one run folder per image of a source folder, written by one or more workers.

Layout::

    runs/collections/photos/
        collection.json            the config, the source folder, when it was made (written once)
        workers/worker-000-of-002.jsonl   each worker's records, appended by it alone
        manifest.json              every image's latest state, merged from the workers' records
        index.html                 the collection report (training image, samples, metrics, links)
        runs/<image file name>/    each image's run folder (adapters.runs.RunFolder)
        logs/                      msrun's logs, when make train-folder launches it

Workers never share a file they write: each appends to its own record file, and ``manifest.json``
and ``index.html`` are rewritten whole, under a lock, from every worker's records. Readers merge
the record files themselves, so the merged view is right even where locks do not reach (network
file systems across machines).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator, Mapping

from adapters.runs import MANIFEST as RUN_MANIFEST
from adapters.runs import write_json_atomic
from domain.collection import merge_records, natural_key, run_folder_name
from domain.errors import BadImage, InvalidRequest, SinGANError

COLLECTION = "collection.json"
MANIFEST = "manifest.json"
METRICS = "metrics.json"  # app.evaluation.METRICS_FILE, in each run folder
FORMAT = "singan-mindspore-collection/1"
# What may already be in a collection folder before its collection.json exists.
_BEFORE_CREATION = {"logs", "workers", "runs", ".lock"}


def list_files(folder: str | os.PathLike) -> list[str]:
    """Every visible regular file directly in ``folder``, by name, numbers as numbers. All of them,
    images or not: a worker's share is by position in this list."""
    path = Path(folder)
    if path.is_file():
        raise BadImage(f"{folder} is a file; train-folder takes a folder of images (train takes one image)")
    if not path.is_dir():
        raise BadImage(f"{folder}: no such folder")
    names = [p.name for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
    if not names:
        raise InvalidRequest(f"{folder} is empty: nothing to train")
    return sorted(names, key=natural_key)


class NotACollection(SinGANError):
    """A collection folder that cannot be used as asked (another config, or not a collection)."""


def _first_difference(a: Any, b: Any, prefix: str = "") -> str | None:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            found = _first_difference(a.get(key), b.get(key), f"{prefix}{key}.")
            if found:
                return found
        return None
    return None if a == b else f"{prefix.rstrip('.')}: {json.dumps(a)} there, {json.dumps(b)} here"


class CollectionFolder:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"CollectionFolder({str(self.path)!r})"

    # creation ------------------------------------------------------------------------------
    def stored(self) -> dict[str, Any] | None:
        """collection.json, or None if the folder is not (yet) a collection."""
        path = self.path / COLLECTION
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            raise NotACollection(f"{self.path}: {COLLECTION} is unreadable or corrupt") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or "config" not in data:
            raise NotACollection(f"{self.path}: {COLLECTION} is not a {FORMAT} file")
        return data

    def check_new(self) -> None:
        """Refuse a folder that holds something else (never write into another tool's output)."""
        if self.path.exists() and not self.path.is_dir():
            raise NotACollection(f"{self.path} is a file, not a collection folder; choose another --out")
        if self.path.is_dir() and self.stored() is None:
            foreign = sorted(p.name for p in self.path.iterdir() if p.name not in _BEFORE_CREATION
                             and ".partial" not in p.name)
            if foreign:
                raise NotACollection(
                    f"{self.path} exists and is not a collection (it holds {', '.join(foreign[:3])}"
                    f"{'...' if len(foreign) > 3 else ''}); choose another --out"
                )

    def check(self, config: Mapping[str, Any]) -> dict[str, Any] | None:
        """What ``create_or_check`` would refuse, without writing anything; the stored header or None."""
        self.check_new()
        stored = self.stored()
        if stored is not None:
            self._check_config(stored, config)
        return stored

    def _check_config(self, stored: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        difference = _first_difference(stored["config"], config)
        if difference:
            raise NotACollection(
                f"{self.path} was made with another config ({difference}); continue it with its own "
                "config with --resume, or choose another --out"
            )

    def create_or_check(self, header: Mapping[str, Any]) -> dict[str, Any]:
        """Make the collection with ``header`` (config, source) or, if it exists, check that it was
        made with the same config. Several workers may call this at once: one file wins, by an
        exclusive link, and the others compare against it."""
        self.check_new()
        self.path.mkdir(parents=True, exist_ok=True)
        stored = self.stored()
        if stored is None:
            tmp = self.path / f"{COLLECTION}.partial-{os.getpid()}"
            tmp.write_text(json.dumps({"format": FORMAT, **header}, indent=2) + "\n")
            try:
                os.link(tmp, self.path / COLLECTION)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
            stored = self.stored()
        self._check_config(stored, header["config"])
        return stored

    # records -------------------------------------------------------------------------------
    def record(self, worker: str, record: Mapping[str, Any]) -> None:
        """Append one record to the worker's own file, flushed to disk: a kill loses at most the
        line being written, which readers skip."""
        folder = self.path / "workers"
        folder.mkdir(exist_ok=True)
        with open(folder / f"{worker}.jsonl", "a") as out:
            out.write(json.dumps(dict(record)) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def records(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted((self.path / "workers").glob("*.jsonl")):
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a kill
                if isinstance(record, dict) and "image" in record:
                    found.append(record)
        return found

    def states(self) -> dict[str, dict[str, Any]]:
        return merge_records(self.records())

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with open(self.path / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def write_manifest(self, data: Mapping[str, Any]) -> None:
        write_json_atomic(self.path / MANIFEST, {"format": FORMAT, **data})

    # run folders ---------------------------------------------------------------------------
    def run_path(self, file_name: str) -> Path:
        return self.path / "runs" / run_folder_name(file_name)

    def run_state(self, file_name: str) -> tuple[str | None, int]:
        """(status, completed scales) of an image's run folder; (None, 0) if it has no manifest."""
        path = self.run_path(file_name) / RUN_MANIFEST
        if not path.exists():
            return None, 0
        try:
            data = json.loads(path.read_text())
        except ValueError:
            return "corrupt", 0
        return data.get("status"), int(data.get("completed_scales", 0))

    def run_metrics(self, file_name: str) -> dict[str, Any]:
        """SWD, diversity and sample count of the run's last evaluation ({} before one)."""
        path = self.run_path(file_name) / METRICS
        if not path.exists():
            return {}
        data = json.loads(path.read_text())
        return {"swd": data["swd"], "diversity": data["diversity"], "n": data["n"]}

    def clear_unstarted_run(self, file_name: str) -> bool:
        """A run folder killed before its manifest was written holds nothing that cannot be remade
        (at most the fitted training image): remove it so the image trains afresh. Returns False,
        touching nothing, if it holds anything else."""
        path = self.run_path(file_name)
        if not path.is_dir() or (path / RUN_MANIFEST).exists():
            return False
        if any(p.name != "image.png" and ".partial" not in p.name for p in path.iterdir()):
            return False
        shutil.rmtree(path)
        return True
