"""The `verifiers` environment with the real package (0.4, its v1 API) in a venv of its own
(it pins mcp==2.0.0 and openai<3): verifiers' own eval runner (`run_eval`) plays our tasks
through its `null` chat harness against a loopback endpoint; the rollouts run on our
sandbox, our simulated user and our verifier.

The endpoint answers like models do: the policy sends JSON actions (once cut off mid-JSON,
then again whole), the customer answers from its instruction and stops when asked whether
anything else is needed. A policy that never acts earns 0. Marked `verifiers` (the venv
takes ~2 min and ~650 MB the first time; its chat harness installs its own packages with
uv): run with `pytest -m verifiers`.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from pathlib import Path
    from apigen_mt.environments.taubench import load_tasks
    from apigen_mt.testing.fake_openai import FakeOpenAIServer, Reply

    retail, tasks_file, out, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    tasks = load_tasks(tasks_file)
    by_opening = {t.instruction.split(".")[0] + ".": t for t in tasks}
    assert len(by_opening) == len(tasks)

    def respond(body):
        msgs = body.get("messages", [])
        system = msgs[0]["content"] if msgs and msgs[0]["role"] == "system" else ""
        system = system if isinstance(system, str) else json.dumps(system)
        if "customer support agent" in system:  # the policy
            users = [m["content"] for m in msgs if m["role"] == "user"]
            task = by_opening.get(str(users[0]).strip()) if users else None
            done = sum(m["role"] == "assistant" for m in msgs)
            if mode == "gold" and task and done == 1:  # cut off at max_tokens, once
                return Reply(content='{"tool": "get_user_details", "argu')
            acted = done - (1 if done > 1 else 0)
            if mode == "gold" and task and acted < len(task.actions):
                a = task.actions[acted]
                return Reply(content=json.dumps({"tool": a.name, "arguments": a.arguments}))
            said = ", ".join(task.outputs) if task else ""
            return Reply(content=f"All done: {said}. Is there anything else?")
        last = str(msgs[-1]["content"]) if msgs else ""
        if "anything else" in last.lower():
            return Reply(content="No, that's all. ###STOP###")
        return Reply(content=next((o for o in by_opening if o in system), "Hello."))

    async def main():
        from verifiers.v1.cli.eval.runner import run_eval
        from verifiers.v1.configs.cli.eval import EvalConfig
        from apigen_mt.rl.verifiers_env import TASKSET_ID, ApigenEnvConfig

        with FakeOpenAIServer(responder=respond) as server:
            os.environ.update(APIGEN_MT_HUMAN_BASE_URL=server.base_url,
                              APIGEN_MT_HUMAN_API_KEY="x", POLICY_KEY="x")
            config = EvalConfig(
                env=ApigenEnvConfig(taskset={"id": TASKSET_ID, "domain": "retail",
                                             "tasks": str(tasks_file), "data_dir": str(retail)}),
                model="scripted-policy",
                client={"base_url": server.base_url, "api_key_var": "POLICY_KEY"},
                num_rollouts=1, push=False, rich=None, output_dir=Path(out),
            )
            episodes = await run_eval(config)
        rows = []
        for episode in episodes:
            for trace in episode.traces:
                rows.append({"ok": trace.ok, "reward": trace.reward, "info": trace.info,
                             "task": episode.task.data.task_index})
        print(json.dumps(rows, default=str))

    asyncio.run(main())
    """
)


def _verifiers_python() -> str:
    from venvs import cached_venv

    return cached_venv("verifiers-venv", "verifiers==0.4.0", "uv", "-e", f"{REPO}[rl]")


def _rollouts(python: str, retail: Path, tmp_path: Path, mode: str, cache_dir: Path) -> list:
    picked, seen = [], set()
    for task in json.loads((retail / "tasks_test.json").read_text()):
        opening = task["instruction"].split(".")[0]
        if opening not in seen and len(task["actions"]) >= 2:
            seen.add(opening)
            picked.append(task)
        if len(picked) == 2:
            break
    tasks_file = tmp_path / "tasks.json"
    tasks_file.write_text(json.dumps(picked))
    script = tmp_path / "vf_eval.py"
    script.write_text(SCRIPT)
    bin_dir = str(Path(python).parent)
    run = subprocess.run(
        [python, str(script), str(retail), str(tasks_file), str(tmp_path / f"out-{mode}"), mode],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("APIGEN_MT_", "OPENAI"))},
             "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
             "APIGEN_MT_CACHE_DIR": str(cache_dir), "PRIME_DISABLE_TELEMETRY": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    rows = json.loads(run.stdout.strip().splitlines()[-1])
    return sorted(rows, key=lambda r: r["task"]), picked


@pytest.mark.verifiers
def test_verifiers_eval_scores_our_episodes(taubench_retail_dir, cache_dir, tmp_path):
    python = _verifiers_python()
    rows, picked = _rollouts(python, taubench_retail_dir, tmp_path, "gold", cache_dir)
    assert len(rows) == 2
    for row, task in zip(rows, picked, strict=True):
        assert row["ok"] and row["reward"] == 1.0, row["info"]
        assert row["info"]["ended_by"] == "user_stop"
        # the cut-off action, the gold actions, the closing message
        assert row["info"]["reward_components"]["steps"] == len(task["actions"]) + 2
    lazy, _ = _rollouts(python, taubench_retail_dir, tmp_path, "lazy", cache_dir)
    for row in lazy:
        assert row["reward"] == 0.0 and row["info"]["reward_components"]["tables_differ"]
