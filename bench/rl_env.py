"""The RL environment's own cost per episode, against τ²'s `AgentGymEnv`, in one run.

    python bench/rl_env.py [--tasks 20] [--tau2-python PATH] [--data ../shared/tau2bench/data]

An episode, on both sides, is: reset, the gold actions as tool-call steps, a closing
message the scripted user answers with ###STOP###, and the verifier's reward. No LLM
anywhere: both users are the same scripted function and neither side judges NL
assertions. τ² runs in its own venv (Python 3.12; the tests' cached `tau2-venv`, with
gymnasium added if missing). Ours runs the same retail tasks under `--protocol tau2`
semantics. Then 64 of our environments in flight in this one process (one core), stepped
round-robin. Last line: `speedup_vs_tau2_gym: X` (τ²'s seconds per episode over ours).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import gymnasium

import apigen_mt.rl  # registers apigen_mt/<domain>-v0
from apigen_mt.environments import default_cache_dir

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "tau2bench" / "data"


def user(instruction, turns):
    """The same scripted user as bench/tau2_gym_episodes.py's."""
    if turns and turns[-1].speaker == "agent" and "anything else" in turns[-1].text.lower():
        return "No, that's all. ###STOP###"
    return "Hi, I need help with my orders."


def episode(env, index: int) -> float:
    env.reset(options={"task_index": index})
    reward, done = 0.0, False
    for action in env.unwrapped.task_set.task(index)["actions"]:
        _, reward, terminated, truncated, _ = env.step(
            {"tool": action["name"], "arguments": action["arguments"]}
        )
        if terminated or truncated:
            done = True
            break
    if not done:
        _, reward, *_ = env.step({"message": "Done. Is there anything else?"})
    return reward


def ours(tasks_file: Path, n: int) -> tuple[float, float, list[float]]:
    env = gymnasium.make(
        "apigen_mt/tau2-retail-v0", tasks=str(tasks_file), user=user, protocol="tau2"
    )
    start = time.perf_counter()
    rewards = [episode(env, i) for i in range(n)]  # cold: each task's gold state computed
    cold = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for i in range(n):
        episode(env, i)
    warm = (time.perf_counter() - start) / n
    env.close()
    return cold, warm, rewards


def in_flight(tasks_file: Path, n: int, width: int = 64, rounds: int = 3) -> float:
    """Episodes per second with `width` environments live at once, stepped round-robin;
    they share one task set (its database master and gold states), as a vector of
    environments over one task file does."""
    shared = apigen_mt.rl.load_task_set("tau2-retail", tasks_file)
    envs = [
        gymnasium.make("apigen_mt/tau2-retail-v0", task_set=shared, user=user, protocol="tau2")
        for _ in range(width)
    ]
    plans = []
    start, finished = time.perf_counter(), 0
    for r in range(rounds):
        for k, env in enumerate(envs):
            index = (k + r * width) % n
            env.reset(options={"task_index": index})
            plans.append([env, list(env.unwrapped.task_set.task(index)["actions"])])
        while plans:
            env, actions = plans.pop(0)
            if actions:
                action = actions.pop(0)
                _, _, terminated, truncated, _ = env.step(
                    {"tool": action["name"], "arguments": action["arguments"]}
                )
                if not (terminated or truncated):
                    plans.append([env, actions])
                    continue
            else:
                env.step({"message": "Done. Is there anything else?"})
            finished += 1
    rate = finished / (time.perf_counter() - start)
    for env in envs:
        env.close()
    shared.close()
    return rate


def tau2(python: str, tasks_file: Path, n: int, data: Path) -> dict:
    probe = subprocess.run([python, "-c", "import gymnasium"], capture_output=True)
    if probe.returncode != 0:  # τ²'s `gym` extra
        subprocess.run([python, "-m", "pip", "install", "-q", "gymnasium>=1.2.2"], check=True)
    run = subprocess.run(
        [python, str(ROOT / "bench" / "tau2_gym_episodes.py"), str(tasks_file), str(n)],
        capture_output=True,
        text=True,
        env={**os.environ, "TAU2_DATA_DIR": str(data), "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    if run.returncode != 0:
        sys.exit(f"τ²'s gym run failed:\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20, help="retail tasks (first N)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--tau2-python", default=str(default_cache_dir() / "tau2-venv" / "bin" / "python")
    )
    args = parser.parse_args()
    tasks_file = args.data / "tau2" / "domains" / "retail" / "tasks.json"
    if not Path(args.tau2_python).exists():
        sys.exit(f"no τ² venv at {args.tau2_python}: run tests/test_tau2_domains.py once")
    theirs = tau2(args.tau2_python, tasks_file, args.tasks, args.data)
    per_tau2 = theirs["seconds"] / theirs["episodes"]
    cold, warm, rewards = ours(tasks_file, args.tasks)
    agree = sum(a == b for a, b in zip(rewards, theirs["rewards"], strict=True))
    print(f"τ² AgentGymEnv: {per_tau2 * 1000:.1f} ms an episode ({theirs['episodes']} episodes)")
    print(f"apigen_mt/tau2-retail-v0: {cold * 1000:.2f} ms an episode cold (gold state computed),"
          f" {warm * 1000:.2f} ms warm")  # fmt: skip
    print(f"rewards equal on {agree}/{len(rewards)} tasks "
          f"(τ² {sum(theirs['rewards']):.0f}, ours {sum(rewards):.0f} at 1.0)")  # fmt: skip
    rate = in_flight(tasks_file, args.tasks)
    print(f"episodes_per_second_per_core_64_in_flight: {rate:.1f}")
    print(f"in_flight_vs_sequential: {rate * warm:.2f}")
    print(f"speedup_vs_tau2_gym: {per_tau2 / cold:.1f}")


if __name__ == "__main__":
    main()
