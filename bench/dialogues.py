"""Phase-2 dialogues: steps and wall time per dialogue, and how each ended.

python bench/dialogues.py [--data-dir ../shared/taubench/retail]
    scripted roles replaying every gold task (τ-bench's retail tasks with --data-dir,
    else the domain's seed blueprints on generated data)
python bench/dialogues.py --embedded [--dialogues 5] [--max-steps 12] [--best-of 2]
    the embedded SmolLM2 model as user, judge and agent on validated retail blueprints
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from apigen_mt.agents import Blueprint
from apigen_mt.environments import Environment
from apigen_mt.environments.taubench import load_tasks
from apigen_mt.graphs.checks import execution_check, format_check, policy_check
from apigen_mt.graphs.context import DialogueContext
from apigen_mt.graphs.dialogue import build_dialogue_graph, run_dialogue
from apigen_mt.graphs.personas import PERSONAS
from apigen_mt.store import RunStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from phase2_helpers import add_task, dialogue_context


def validated_blueprints(env: Environment, n: int) -> list[dict]:
    """Seed blueprints plus one cancellation per user with a pending order, each passing
    the format, execution and policy checks."""
    with env.sandbox() as sandbox:
        candidates = env.domain.tasks.seed_examples(sandbox.db)
    for order_id, user_id in env.master.execute(
        "SELECT order_id, user_id FROM orders WHERE status = 'pending' ORDER BY rowid LIMIT 20"
    ):
        candidates.append(
            {
                "reasoning": "",
                "user_id": user_id,
                "outputs": [],
                "instruction": f"You are {user_id}. You no longer need order {order_id} "
                "and want it cancelled.",
                "actions": [
                    {
                        "name": "cancel_pending_order",
                        "arguments": {"order_id": order_id, "reason": "no longer needed"},
                    }
                ],
            }
        )
    valid = []
    for c in candidates:
        bp = Blueprint.model_validate(c)
        if not (format_check(bp, env) or execution_check(bp, env)[0] or policy_check(bp, env)):
            valid.append(c)
    return valid[:n]


async def scripted(args) -> None:
    if args.data_dir:
        env = Environment.from_taubench("retail", args.data_dir)
        tasks = [t.model_dump() for t in load_tasks(args.data_dir / "tasks_test.json")]
    else:
        env = Environment.generated("retail", seed=0)
        tasks = validated_blueprints(env, 20)
    graph = build_dialogue_graph()
    steps, seconds, ends = [], [], Counter()
    for task in tasks:
        ctx = dialogue_context(env, task["actions"], task["outputs"], max_steps=200)
        start = time.perf_counter()
        state = await run_dialogue(
            ctx, add_task(ctx, task["actions"], task["outputs"]), graph=graph
        )
        seconds.append(time.perf_counter() - start)
        steps.append(state["steps"])
        ends[f"{state['ended_by']}/{'accepted' if state['accepted'] else 'rejected'}"] += 1
    print(f"{len(tasks)} scripted dialogues: {dict(ends)}")
    print(f"steps per dialogue: median {statistics.median(steps)}, max {max(steps)}")
    print(
        f"wall time per dialogue: median {statistics.median(seconds) * 1000:.1f} ms, "
        f"max {max(seconds) * 1000:.1f} ms; {sum(seconds):.1f} s in all"
    )


async def embedded(args) -> None:
    from apigen_mt.endpoints import resolved_endpoint
    from apigen_mt.models import chat_model
    from apigen_mt.settings import load_settings

    env = Environment.generated("retail", seed=0)
    tasks = validated_blueprints(env, args.dialogues)
    with resolved_endpoint(load_settings({})) as settings:
        ctx = DialogueContext(
            env=env,
            store=RunStore(),
            human=chat_model("human", settings),
            assistant=chat_model("assistant", settings),
            judge=chat_model("human_judge", settings),
            best_of_n=args.best_of,
            max_steps=args.max_steps,
        )
        graph = build_dialogue_graph()
        for i, task in enumerate(tasks):
            task_id = ctx.store.save_task({**task, "persona": PERSONAS[i * 37 % len(PERSONAS)]})
            start = time.perf_counter()
            state = await run_dialogue(ctx, task_id, graph=graph)
            messages = ctx.store.transcript(state["episode_id"])
            calls = [c["name"] for m in messages for c in getattr(m, "tool_calls", [])]
            print(
                f"dialogue {i}: {'accepted' if state['accepted'] else 'rejected'}, ended by "
                f"{state.get('ended_by')}, {state['steps']} steps, "
                f"{time.perf_counter() - start:.0f}s, tool calls {calls}"
            )
            print(f"   reason: {state.get('reason', '')[:300]}")
            first_user = next((m.content for m in messages if m.type == "human"), "")
            print(f"   first user message: {str(first_user)[:160]!r}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--embedded", action="store_true")
    p.add_argument("--dialogues", type=int, default=5)
    p.add_argument("--max-steps", type=int, default=12)
    p.add_argument("--best-of", type=int, default=2)
    args = p.parse_args()
    asyncio.run(embedded(args) if args.embedded else scripted(args))


if __name__ == "__main__":
    main()
