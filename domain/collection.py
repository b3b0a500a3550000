"""A collection: one model per image of a folder, the images split between workers.

Pure rules only: which worker trains which image, how the workers' records merge into one view,
and how long the rest will take. The folder itself is ``adapters.collection``; the use case is
``app.collection``.
"""
from __future__ import annotations

import hashlib
import math
import re
from typing import Any, Iterable, Mapping, Sequence, TypeVar

import attrs

from domain.errors import ConfigError

T = TypeVar("T")

# An image's state in the collection, from its latest record.
TRAINING, COMPLETE, FAILED, SKIPPED = "training", "complete", "failed", "skipped"


def _check_count(instance, attribute, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"the number of shards must be a whole number of at least 1, got {value!r}")


@attrs.frozen(kw_only=True)
class Shard:
    """Worker ``index`` of ``count``: it trains the images whose position in the sorted folder,
    modulo ``count``, is ``index``. Positions count every file, so the split does not depend on
    which files turn out to be images."""

    index: int = 0
    count: int = attrs.field(default=1, validator=_check_count)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.index, int) or isinstance(self.index, bool) or not 0 <= self.index < self.count:
            raise ConfigError(f"the shard index must be in 0..{self.count - 1} (of {self.count} shards), got {self.index!r}")

    @property
    def name(self) -> str:
        """The worker's name in the collection: its own record file is named after it."""
        return f"worker-{self.index:03d}-of-{self.count:03d}"

    def positions(self, total: int) -> range:
        return range(self.index, total, self.count)

    def take(self, items: Sequence[T]) -> list[T]:
        return [items[k] for k in self.positions(len(items))]


def natural_key(name: str) -> list:
    """Sort key that orders numbers as numbers: ``2.png`` before ``10.png``."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", name)]


def run_folder_name(file_name: str) -> str:
    """The run folder of an image, from its file name alone, so a rerun finds it again. A name of
    letters, digits, ``.``, ``_`` and ``-`` is kept as it is (``a.png`` and ``a.jpg`` are two
    images); any other character becomes ``-`` and a hash of the exact name is appended, so two
    names never share a folder."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", file_name).lstrip(".-")
    if safe == file_name:
        return safe
    digest = hashlib.sha1(file_name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{safe or 'image'}-{digest}"


def merge_records(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest state of every image: records are merged in time order (``time``, an ISO UTC
    timestamp, then the order given), each update overwriting the fields it names, so a
    ``complete`` record keeps the ``run`` its ``training`` record named."""
    ordered = sorted(enumerate(records), key=lambda pair: (str(pair[1].get("time", "")), pair[0]))
    merged: dict[str, dict[str, Any]] = {}
    for _, record in ordered:
        image = record["image"]
        merged[image] = {**merged.get(image, {}), **record}
    return merged


def counts(states: Mapping[str, Mapping[str, Any]], total: int) -> dict[str, int]:
    """How many of ``total`` images are in each state; images with no record yet are pending."""
    found = {state: 0 for state in (COMPLETE, FAILED, SKIPPED, TRAINING)}
    for record in states.values():
        status = record.get("status")
        if status in found:
            found[status] += 1
    found["pending"] = max(0, total - sum(found.values()))
    return found


def eta_seconds(durations: Sequence[float], remaining: int) -> float | None:
    """Time left for ``remaining`` images at the median of the images finished so far (a median,
    because one image that fails at once or resumes near its end says little about the rest);
    ``None`` before any image has finished."""
    if remaining <= 0:
        return 0.0
    times = sorted(d for d in durations if d >= 0 and math.isfinite(d))
    if not times:
        return None
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
    return median * remaining


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
