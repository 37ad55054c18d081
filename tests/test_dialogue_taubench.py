"""τ-bench's own retail test tasks as dialogues: a scripted agent replaying the gold actions
and a user who stops after the last one. Every task is accepted, and our verdict equals
τ-bench's reward (its data hash of the replayed calls, and its outputs test) - also for
dialogues that drop the last write."""

import json

from langchain_core.messages import AIMessage, ToolMessage
from phase2_helpers import DONE, add_task, dialogue_context, replaying_agent

from apigen_mt.environments.taubench import export_state, taubench_hash
from apigen_mt.environments.taubench_parity import observations_match
from apigen_mt.graphs.dialogue import build_dialogue_graph, run_dialogue
from apigen_mt.testing import ScriptedChatModel


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


def _batched_agent(actions: list[dict], outputs: list[str], batch: int = 3):
    """A capable model's habits: up to `batch` consecutive gold calls in one message, some
    with text beside them, then the report."""

    def reply(messages):
        done = sum(isinstance(m, ToolMessage) for m in messages)
        if done < len(actions):
            calls = actions[done : done + batch]
            return AIMessage(
                content="Let me take care of that." if done % 2 else "",
                tool_calls=[
                    {"name": a["name"], "args": a["arguments"], "id": f"c{done}_{j}"}
                    for j, a in enumerate(calls)
                ],
            )
        return AIMessage(content=f"{DONE} " + " ".join(outputs))

    return reply


def _cut_off_first_agent(actions: list[dict], outputs: list[str]):
    """Its first call in each task is cut off mid-JSON (max_tokens), as ChatOpenAI parses
    it: an invalid tool call; then it makes the gold calls."""
    gold = replaying_agent(actions, outputs)

    def reply(messages):
        if not any(isinstance(m, ToolMessage) for m in messages) and actions:
            raw = json.dumps(actions[0]["arguments"])[
                : max(1, len(json.dumps(actions[0]["arguments"])) // 2)
            ]
            return AIMessage(
                content="",
                invalid_tool_calls=[
                    {"name": actions[0]["name"], "args": raw, "id": "cut", "error": "bad json"}
                ],
            )
        answered = [m for m in messages if isinstance(m, ToolMessage)]
        return gold([m for m in messages if not answered or m is not answered[0]])

    return reply


async def _pass1(env, tasks, expected, agent_of) -> tuple[float, list]:
    graph, accepted, states = build_dialogue_graph(), 0, []
    for i, task in enumerate(tasks):
        actions = [a.model_dump() for a in task.actions]
        ctx = dialogue_context(env, actions, task.outputs, max_steps=200)
        ctx.assistant = ScriptedChatModel(responder=agent_of(actions, task.outputs))
        state = await run_dialogue(
            ctx, add_task(ctx, actions, task.outputs, task.instruction), graph=graph
        )
        messages = ctx.store.transcript(state["episode_id"])
        assert state["accepted"] == taubench_reward(
            env, messages, expected[i]["taubench_data_hash"], task.outputs
        ), i
        accepted += state["accepted"]
        states.append((state, messages))
    return accepted / len(tasks), states


async def test_parallel_calls_run_in_order_with_their_own_observations(
    taubench_retail_env, retail_tasks, retail_expected
):
    rate, states = await _pass1(taubench_retail_env, retail_tasks, retail_expected, _batched_agent)
    assert rate == 1.0  # was 0.68-0.74 when a message's calls ran concurrently
    for i, (_, messages) in enumerate(states):
        observations = [m.content for m in messages if isinstance(m, ToolMessage)]
        expected = [s["observation"] for s in retail_expected[i]["steps"]]
        assert len(observations) == len(expected), i
        for got, want in zip(observations, expected, strict=True):
            assert observations_match(want, got), (i, want[:80], got[:80])


async def test_calls_cut_off_mid_json_get_an_error_observation(
    taubench_retail_env, retail_tasks, retail_expected
):
    rate, states = await _pass1(
        taubench_retail_env, retail_tasks, retail_expected, _cut_off_first_agent
    )
    assert rate == 1.0  # was 0.07: the cut-off call went to the user as an empty message
    _, messages = states[0]
    first_answer = next(m for m in messages if isinstance(m, ToolMessage))
    assert first_answer.tool_call_id == "cut"
    assert first_answer.content.startswith("Error: the arguments of ")
    assert "not valid JSON" in first_answer.content
    users_saw = [m for m in messages if isinstance(m, AIMessage) and not m.tool_calls]
    assert all(m.text.strip() for m in users_saw if not m.invalid_tool_calls)
