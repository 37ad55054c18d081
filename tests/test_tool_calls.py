"""An agent message's tool calls as capable models send them: several at once (writes,
reads, a failing call among them), text beside them, arguments cut off mid-JSON, empty
replies - with scripted models and through the real ChatOpenAI path on loopback."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from phase2_helpers import DONE, add_task, dialogue_context, scripted_user
from taubench_differential import ADDRESS

from apigen_mt.graphs.dialogue import run_dialogue
from apigen_mt.models import chat_model
from apigen_mt.settings import load_settings
from apigen_mt.testing import ScriptedChatModel
from apigen_mt.testing.fake_openai import FakeOpenAIServer, Reply
from apigen_mt.tools.langchain_tools import run_tool_calls


@pytest.fixture()
def pending(retail_env) -> str:
    return retail_env.master.execute(
        "SELECT order_id FROM orders WHERE status = 'pending' ORDER BY rowid LIMIT 1"
    ).fetchone()[0]


def _calls(order: str) -> list[dict]:
    return [
        {"name": "get_order_details", "arguments": {"order_id": order}},
        {"name": "modify_pending_order_address", "arguments": {"order_id": order, **ADDRESS}},
        {"name": "cancel_pending_order", "arguments": {"order_id": order, "reason": "x"}},
        {
            "name": "cancel_pending_order",
            "arguments": {"order_id": order, "reason": "no longer needed"},
        },
        {"name": "get_order_details", "arguments": {"order_id": order}},
        {"name": "cancel_pending_order", "arguments": {"order_id": order, "reason": "x"}},
    ]


async def test_a_messages_calls_run_in_order_as_if_one_at_a_time(retail_env, pending):
    calls = _calls(pending)
    message = AIMessage(
        content="Let me look at that and update it.",
        tool_calls=[
            {"name": c["name"], "args": c["arguments"], "id": f"id{i}"} for i, c in enumerate(calls)
        ],
    )
    with retail_env.sandbox() as together, retail_env.sandbox() as alone:
        answers = await run_tool_calls(message, retail_env.domain.tools, together.executor, {})
        one_by_one = [alone.call(c["name"], c["arguments"]).observation for c in calls]
        assert [a.tool_call_id for a in answers] == [f"id{i}" for i in range(len(calls))]
        assert [a.content for a in answers] == one_by_one
        assert together.state_hash() == alone.state_hash()
    statuses = [json.loads(a.content)["status"] for a in answers if a.content.startswith("{")]
    assert statuses == ["pending", "pending", "cancelled", "cancelled"]
    assert answers[2].content == "Error: invalid reason"  # a failure among successes
    assert answers[5].content == "Error: non-pending order cannot be cancelled"


def _model(server):
    settings = load_settings(
        {
            "APIGEN_MT_BASE_URL": server.base_url,
            "APIGEN_MT_API_KEY": "k",
            "APIGEN_MT_MODEL": "fake",
            "APIGEN_MT_MAX_RETRIES": "0",
        }
    )
    return chat_model("assistant", settings)


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
async def test_real_client_parallel_calls_text_and_json_cut_off(retail_env, pending):
    """ChatOpenAI parses the wire format itself: two calls with text, then a call cut off
    mid-JSON (an invalid tool call), an empty reply (resampled), the gold call, the report."""
    order = {"order_id": pending}
    gold = [
        {"name": "get_order_details", "arguments": order},
        {"name": "cancel_pending_order", "arguments": {**order, "reason": "no longer needed"}},
    ]
    script = [
        Reply(
            content="Let me check your order and your account.",
            tool_calls=[gold[0], {"name": "list_all_product_types", "arguments": {}}],
        ),
        Reply(
            content=None,
            tool_calls=[{"name": "cancel_pending_order", "arguments": '{"order_id": "#W'}],
        ),
        Reply(content=""),  # empty: resampled, never shown to the user
        Reply(content=None, tool_calls=[gold[1]]),
        Reply(content=f"{DONE} Your order is cancelled."),
    ]
    with FakeOpenAIServer(script) as server:
        ctx = dialogue_context(retail_env, gold, user=scripted_user("Cancel my order please."))
        ctx.assistant = _model(server)
        state = await run_dialogue(ctx, add_task(ctx, gold))
        messages = ctx.store.transcript(state["episode_id"])
    assert state["accepted"], state["reason"]
    kinds = [type(m).__name__ for m in messages]
    assert kinds == [
        "HumanMessage",
        "AIMessage",  # text + two calls
        "ToolMessage",
        "ToolMessage",
        "AIMessage",  # cut off
        "ToolMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "HumanMessage",
    ]
    cut = messages[5]
    assert cut.content.startswith("Error: the arguments of cancel_pending_order are not valid")
    assert cut.tool_call_id == messages[4].invalid_tool_calls[0]["id"]
    # the model saw the error paired with its call on the next request
    sent = server.requests[2]["messages"]
    assert sent[-1]["role"] == "tool" and "not valid JSON" in sent[-1]["content"]
    assert any(c["function"]["arguments"] == '{"order_id": "#W' for c in sent[-2]["tool_calls"])
    assert len(server.requests) == 5  # the empty reply was resampled once
    assert all(
        m.text.strip() or m.tool_calls or m.invalid_tool_calls
        for m in messages[1::1]
        if isinstance(m, AIMessage)
    )


async def test_empty_replies_twice_end_as_an_assistant_failure(retail_env, pending):
    gold = [{"name": "get_order_details", "arguments": {"order_id": pending}}]
    ctx = dialogue_context(retail_env, gold)
    ctx.assistant = ScriptedChatModel(responder=lambda m: AIMessage(content=""))
    state = await run_dialogue(ctx, add_task(ctx, gold))
    assert state["ended_by"] == "assistant_failure"
    assert state["reason"].startswith("assistant: empty reply, twice")
    messages = ctx.store.transcript(state["episode_id"])
    assert not [m for m in messages if isinstance(m, AIMessage)]
    assert not [m for m in messages if isinstance(m, ToolMessage)]
