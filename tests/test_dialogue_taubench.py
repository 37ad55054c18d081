"""τ-bench's own retail test tasks as dialogues: a scripted agent replaying the gold actions
and a user who stops after the last one. Every task is accepted, and our verdict equals
τ-bench's reward (its data hash of the replayed calls, and its outputs test) - also for
dialogues that drop the last write."""

from langchain_core.messages import AIMessage
from phase2_helpers import add_task, dialogue_context

from apigen_mt.environments.taubench import export_state, taubench_hash
from apigen_mt.graphs.dialogue import build_dialogue_graph, run_dialogue


def taubench_reward(env, messages, expected_hash: str, outputs: list[str]) -> bool:
    """τ-bench's reward, computed its way: replay the agent's calls, hash the exported data."""
    calls = [
        {"name": c["name"], "arguments": c["args"]}
        for m in messages
        if isinstance(m, AIMessage)
        for c in m.tool_calls
    ]
    with env.sandbox() as sandbox:
        sandbox.run(calls)
        hash_ok = taubench_hash(export_state(env, sandbox)) == expected_hash
    said = [
        str(m.content).lower().replace(",", "")
        for m in messages
        if isinstance(m, AIMessage) and m.content
    ]
    return hash_ok and all(any(o.lower() in s for s in said) for o in outputs)


async def test_gold_replays_of_all_retail_tasks_are_accepted(
    taubench_retail_env, retail_tasks, retail_expected
):
    graph = build_dialogue_graph()
    disagreements, accepted = [], 0
    for i, task in enumerate(retail_tasks):
        actions = [a.model_dump() for a in task.actions]
        ctx = dialogue_context(taubench_retail_env, actions, task.outputs, max_steps=200)
        state = await run_dialogue(
            ctx,
            add_task(ctx, actions, task.outputs, task.instruction, task.user_id or ""),
            graph=graph,
        )
        messages = ctx.store.transcript(state["episode_id"])
        reward = taubench_reward(
            taubench_retail_env, messages, retail_expected[i]["taubench_data_hash"], task.outputs
        )
        accepted += state["accepted"]
        if state["accepted"] != reward:
            disagreements.append(i)
    assert disagreements == []
    assert accepted == len(retail_tasks) == 115


async def test_dropping_the_last_write_is_rejected_by_both(
    taubench_retail_env, retail_tasks, retail_expected
):
    graph = build_dialogue_graph()
    writes = taubench_retail_env.domain.tools.write_names
    checked = 0
    for i, task in enumerate(retail_tasks[:40]):
        actions = [a.model_dump() for a in task.actions]
        last_write = max((j for j, a in enumerate(actions) if a["name"] in writes), default=None)
        if last_write is None:
            continue
        # Skip writes τ-bench itself refuses: dropping them changes nothing.
        if retail_expected[i]["steps"][last_write]["observation"].startswith("Error"):
            continue
        partial = actions[:last_write] + actions[last_write + 1 :]
        ctx = dialogue_context(
            taubench_retail_env, actions, task.outputs, agent_actions=partial, max_steps=200
        )
        state = await run_dialogue(ctx, add_task(ctx, actions, task.outputs), graph=graph)
        messages = ctx.store.transcript(state["episode_id"])
        assert not state["accepted"] and "wrong final state" in state["reason"], i
        assert not taubench_reward(
            taubench_retail_env, messages, retail_expected[i]["taubench_data_hash"], task.outputs
        ), i
        checked += 1
    assert checked >= 20
