"""Use case: train a model on every image of a folder (``train_folder``), one run folder each,
the images split between workers (``Shard``), so the same command runs one process on a laptop or
many under msrun or a scheduler. Rerunning it continues: finished images are skipped and
interrupted ones resume from their last completed scale."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from app import bootstrap
from app.training import now
from domain.collection import (
    COMPLETE,
    FAILED,
    SKIPPED,
    TRAINING,
    Shard,
    counts,
    eta_seconds,
    format_duration,
    natural_key,
)
from domain.config import SinGANConfig
from domain.errors import BadImage, InvalidRequest, PlanningError, SinGANError

Say = Callable[[str], None]


def default_out(folder: str | os.PathLike) -> Path:
    """Where a folder's collection goes unless told: ``runs/collections/<folder name>``, the same
    on every rerun, so rerunning the same command continues it."""
    return Path("runs") / "collections" / (Path(os.path.abspath(folder)).name or "images")


def check_folder(folder: str | os.PathLike) -> list[str]:
    """The folder's files, once it is known to hold at least one image file (by its name): a
    folder with none fails here, in one line, before anything is written."""
    from adapters.collection import list_files
    from adapters.images import IMAGE_SUFFIXES

    names = list_files(folder)
    if not any(name.lower().endswith(IMAGE_SUFFIXES) for name in names):
        shown = ", ".join(names[:3]) + ("..." if len(names) > 3 else "")
        raise InvalidRequest(
            f"{folder} holds no images ({len(names)} files: {shown}); images end in {', '.join(IMAGE_SUFFIXES)}"
        )
    return names


def _header(folder: str | os.PathLike, config: SinGANConfig, device: str) -> dict[str, Any]:
    return {"source": os.path.abspath(folder), "created": now(), "device": device, "config": config.to_dict()}


def train_folder(
    folder: str | os.PathLike,
    config: SinGANConfig | str | None = None,
    *,
    out: str | os.PathLike | None = None,
    shard: Shard | None = None,
    resume: bool = False,
    progress: bool | Say = False,
    device: str = "CPU",
    memory_limit: int | None = None,
    skip_memory_check: bool = False,
) -> dict[str, dict[str, Any]]:
    """Train one model per image of ``folder`` into one collection folder under ``out`` (default
    ``runs/collections/<folder name>``) and return every image's state (``status``: complete,
    failed, skipped, training; ``run``, ``seconds``, ``metrics``, ``reason``).

    ``shard``: this worker's share (``Shard(index=i, count=n)``: every n-th file from the i-th);
    the default, one shard, trains them all. ``resume``: continue an existing collection with the
    config it was made with (``config`` must then be None); without it, a collection made with
    another config is refused. ``progress``: ``True`` prints one line per finished image to
    stderr, or a function to call with each line. ``memory_limit``, ``skip_memory_check``: as
    ``train``'s; an image whose plan does not fit is skipped with the reason.

    A file that is not an image, or an image too small for the pyramid, is skipped with its
    reason; an image whose training fails is recorded as failed; neither stops the others.
    """
    from adapters.collection import CollectionFolder, NotACollection
    from app import training

    shard = shard or Shard()
    names = check_folder(folder)
    collection = CollectionFolder(out if out is not None else default_out(folder))
    if resume:
        if config is not None:
            raise InvalidRequest("resume continues a collection with its own config; give no config")
        stored = collection.stored()
        if stored is None:
            raise NotACollection(f"{collection.path} is not a collection to resume (it has no collection.json)")
        config = SinGANConfig.from_stored(stored["config"])
    else:
        config = training._resolve_config(config)
        collection.create_or_check(_header(folder, config, device))
    say = _say(progress)
    store = bootstrap.images()
    mine = shard.take(names)
    say(f"{shard.name}: {len(mine)} of {len(names)} files in {folder} -> {collection.path}")
    try:
        memory = {"memory_limit": memory_limit, "skip_memory_check": skip_memory_check}
        _train_share(collection, folder, names, mine, config, shard, store, device, say, memory)
    except KeyboardInterrupt:
        raise training.TrainingInterrupted(
            f"interrupted; rerun the same command to continue {collection.path} (finished images are kept)"
        ) from None
    return collection.states()


def _train_share(collection, folder, names, mine, config, shard, store, device, say, memory) -> None:
    from app import training

    durations: list[float] = []
    for done, name in enumerate(mine, start=1):
        began = time.perf_counter()
        state = _train_one(collection, Path(folder) / name, name, config, shard, store, device, training, memory)
        seconds = time.perf_counter() - began
        if state["status"] in (COMPLETE, FAILED) and not state.get("already"):
            durations.append(seconds)
        _publish(collection, names)
        say(_line(name, state, seconds, done, len(mine), eta_seconds(durations, len(mine) - done), collection, names,
                  shard.count))


def _train_one(collection, path: Path, name: str, config, shard: Shard, store, device: str, training,
               memory: dict) -> dict:
    """Train, resume or skip one image; records its state in the worker's file and returns it."""
    run_dir = collection.run_path(name)
    relative = str(run_dir.relative_to(collection.path))

    def record(status: str, **fields) -> dict:
        where = {"run": relative} if status != SKIPPED or run_dir.exists() else {}  # skipped: no run folder
        entry = {"image": name, "status": status, **where, "worker": shard.name, "time": now(), **fields}
        collection.record(shard.name, entry)
        return entry

    status, completed = collection.run_state(name)
    if status == COMPLETE:
        return {**record(COMPLETE, metrics=collection.run_metrics(name)), "already": True}
    if status is None and run_dir.exists() and not collection.clear_unstarted_run(name):
        return record(FAILED, reason=f"{relative} exists but is not a run folder; move it away and rerun")
    began = time.perf_counter()
    try:
        if status is None:
            pixels = store.load(str(path))
            plan, _ = training.fit_image(pixels, config)  # an image the pyramid cannot hold is skipped here
            if not memory["skip_memory_check"]:  # checked here, to skip the image before it starts
                training.check_memory(plan, config, device=device, limit=memory["memory_limit"])
            record(TRAINING, pid=os.getpid())
            # checked above; the limit still decides which scales run op by op
            training.train(str(path), config, run_dir=run_dir, device=device, skip_memory_check=True,
                           memory_limit=memory["memory_limit"])
            extra = {}
        else:
            record(TRAINING, pid=os.getpid(), resumed_from_scale=completed)
            training.resume(run_dir, device=device, **memory)
            extra = {"resumed_from_scale": completed}
    except (BadImage, PlanningError) as exc:
        return record(SKIPPED, reason=str(exc))
    except SinGANError as exc:
        return record(FAILED, reason=str(exc))
    except Exception as exc:  # one image's crash must not stop the others; the reason is kept
        return record(FAILED, reason=f"{type(exc).__name__}: {exc}")
    return record(COMPLETE, seconds=round(time.perf_counter() - began, 3), metrics=collection.run_metrics(name), **extra)


def _publish(collection, names: Sequence[str]) -> None:
    """Rewrite the merged manifest and index.html from every worker's records, under the lock."""
    from adapters.report import write_collection_index

    with collection.locked():
        states = collection.states()
        tally = counts(states, len(names))
        collection.write_manifest({"updated": now(), "files": list(names), "counts": tally, "images": states})
        write_collection_index(collection.path, list(names), states, tally)


def _line(name, state, seconds, done, mine, eta, collection, names, workers: int) -> str:
    states = collection.states()
    tally = counts(states, len(names))
    finished = tally[COMPLETE] + tally[FAILED] + tally[SKIPPED]
    # The whole collection's ETA: the median image so far, for what is left, shared by the workers.
    trained = [s["seconds"] for s in states.values() if isinstance(s.get("seconds"), (int, float))]
    left = eta_seconds(trained, -(-(len(names) - finished) // workers))
    metrics = state.get("metrics") or {}
    detail = f"SWD {metrics['swd']:.4f}" if "swd" in metrics else state.get("reason", "")
    if state.get("already"):
        what = "already complete"
    elif state.get("resumed_from_scale") is not None:
        what = f"complete (resumed at scale {state['resumed_from_scale']})"
    else:
        what = state["status"]
    return (
        f"{name}: {what}, {format_duration(seconds)}{', ' + detail if detail else ''} | "
        f"this worker {done}/{mine}, ETA {format_duration(eta)} | "
        f"collection {finished}/{len(names)} done, ETA {format_duration(left)}"
    )


def _say(progress: bool | Say) -> Say:
    if callable(progress):
        return progress
    if progress:
        import sys

        return lambda text: print(text, file=sys.stderr, flush=True)
    return lambda text: None


__all__ = ["default_out", "train_folder"]
