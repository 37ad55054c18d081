"""Starting, finding and resuming runs (shared by the CLI and notebooks)."""

from __future__ import annotations

import random
import subprocess
import time
import uuid
from pathlib import Path

from apigen_mt import __version__
from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.environment import copy_cached
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.store import RunStore

STORE_FILE = "runs.sqlite"


class RunNotFound(LookupError):
    pass


class WorldChanged(RunNotFound):
    """The world's database is not the one the run started from."""


def world_database(domain: str) -> str | None:
    """The content key of a world's database (None for other domains)."""
    source = get_domain(domain).source_database
    return None if source is None else copy_cached(source, None).stem


def _pinned(config):
    """`config` with its world's database key, checked against the stored one."""
    current = world_database(config.domain)
    if current is None:
        return config
    if config.world_database and config.world_database != current:
        raise WorldChanged(
            f"the database of world {config.domain} changed since this run started "
            f"({config.world_database} -> {current}); start a new run (--new)"
        )
    return config.model_copy(update={"world_database": current})


def store_at(out: str | Path) -> RunStore:
    """The run store of an output directory (created on first use)."""
    return RunStore(Path(out) / STORE_FILE)


def code_version() -> str:
    """The package version, plus the git commit when running from a checkout."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


def open_run(
    store: RunStore, config: PipelineConfig, *, resume: str | None = None, auto: bool = True
) -> tuple[str, PipelineConfig, bool]:
    """(run_id, config to use, resumed?). `resume` names a run to continue; with `auto`, an
    unfinished run with the same settings is continued instead of starting a new one."""
    if resume:
        row = store.run(resume)
        if row is None:
            raise RunNotFound(f"no run {resume!r} in {store.path}")
        stored = _pinned(PipelineConfig.model_validate(row["config"]))
        # The stored settings define the run; only the speed may change on resume.
        return resume, stored.model_copy(update={"concurrency": config.concurrency}), True
    config = _pinned(config)
    if config.data_dir is None:  # a τ² domain's $TAU2_DATA_DIR, fixed for the whole run
        config = config.model_copy(update={"data_dir": run_data_dir(config.domain, None)})
    if auto:
        for row in reversed(store.runs()):
            stored = PipelineConfig.model_validate(row["config"])
            if row["status"] != "finished" and stored.identity() == config.identity():
                return row["id"], config, True
    run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    store.create_run(
        run_id,
        domain=config.domain,
        config=config.model_dump(),
        seed=config.seed,
        code_version=code_version(),
    )
    return run_id, config, False


def run_data_dir(domain: str, given: Path | None) -> str | None:
    """The data folder a run on `domain` reads, fixed when it starts (a resume or a worker
    reads the same): `given`; else, for a τ² domain, `$TAU2_DATA_DIR`'s folder for it; None
    for the domain's generated data."""
    adapter = get_domain(domain).tau2
    if given is None and adapter is not None:
        from apigen_mt.environments.tau2.data import find_tau2_data

        found = find_tau2_data(
            adapter.tau2_name, None, None, getattr(adapter, "db_file", "db.json")
        )
        return str(found.resolve()) if found else None
    return str(Path(given).resolve()) if given else None


def check_run_data(config: PipelineConfig) -> None:
    """Raise (ValueError, FileNotFoundError) in words when the run's data is missing: the
    database, and for a domain whose tasks start from a scene, what it draws them from."""
    env = environment_for(config)
    try:
        hooks = env.domain.tasks
        if hooks is not None and hooks.sample_scene is not None:
            hooks.sample_scene(env, random.Random(config.seed))
    finally:
        env.close()


def environment_for(config: PipelineConfig) -> Environment:
    if config.data_dir:
        return Environment.for_data(config.domain, config.data_dir)
    _pinned(config)  # a worker, too, refuses a world whose database changed under the run
    return Environment.generated(config.domain, seed=config.data_seed)


def open_eval(store: RunStore, config, *, resume: str | None = None) -> tuple[str, object, bool]:
    """(eval_id, config, resumed?) for an evaluation (a run whose config kind is "eval");
    an unfinished evaluation with the same settings is continued."""
    from apigen_mt.graphs.evaluate import EvalConfig

    if resume:
        row = store.run(resume)
        if row is None or row["config"].get("kind") != "eval":
            raise RunNotFound(f"no evaluation {resume!r} in {store.path}")
        return resume, _pinned(EvalConfig.model_validate(row["config"])), True
    config = _pinned(config)
    same = config.model_dump(exclude={"concurrency"})
    for row in reversed(store.runs()):
        if row["config"].get("kind") != "eval" or row["status"] == "finished":
            continue
        stored = EvalConfig.model_validate(row["config"])
        if stored.model_dump(exclude={"concurrency"}) == same:
            return row["id"], config, True
    eval_id = "eval-" + time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    store.create_run(
        eval_id,
        domain=config.domain,
        config=config.model_dump(),
        seed=config.seed,
        code_version=code_version(),
    )
    return eval_id, config, False


def eval_environment(store: RunStore, config) -> Environment:
    """The database an evaluation's tasks run against."""
    if config.run:
        row = store.run(config.run)
        if row is None or row["config"].get("kind") == "eval":
            raise RunNotFound(f"no generation run {config.run!r} in {store.path}")
        if row["domain"] != config.domain:
            raise ValueError(f"run {config.run} is a {row['domain']} run, not {config.domain}")
        return environment_for(PipelineConfig.model_validate(row["config"]))
    return Environment.for_data(
        config.domain, config.data_dir, tasks_file=config.tasks_file, seed=config.data_seed
    )
