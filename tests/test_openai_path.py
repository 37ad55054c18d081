"""The real ChatOpenAI path against a loopback fake OpenAI server: answers, tool calls,
garbage, and transport faults (429 with Retry-After, 500, timeouts, connection resets)."""

import json

import pytest
from langchain_core.messages import HumanMessage

from apigen_mt.agents import Blueprint, ProposerInput, RoleFailure, make_assistant, make_proposer
from apigen_mt.models import chat_model
from apigen_mt.settings import load_settings
from apigen_mt.testing.fake_openai import FakeOpenAIServer, Fault, Reply, Reset, Stall
from apigen_mt.usage import UsageLedger

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

BLUEPRINT = json.dumps(
    {
        "reasoning": "r",
        "user_id": "u1",
        "instruction": "You want X.",
        "actions": [{"name": "think", "arguments": {"thought": "t"}}],
        "outputs": [],
    }
)
INPUT = ProposerInput(domain="retail", policy="p", tools=[], records="{}", persona="p")


def _model(server, role="proposer", ledger=None, **env):
    settings = load_settings(
        {
            "APIGEN_MT_BASE_URL": server.base_url,
            "APIGEN_MT_API_KEY": "k",
            "APIGEN_MT_MODEL": "fake",
            "APIGEN_MT_MAX_RETRIES": "3",
            "APIGEN_MT_TIMEOUT": "5",
            **env,
        }
    )
    return chat_model(role, settings, ledger=ledger)


def test_structured_answer_through_json_schema_mode():
    with FakeOpenAIServer([Reply(content=BLUEPRINT)]) as server:
        result = make_proposer(_model(server)).invoke(INPUT)
    assert isinstance(result, Blueprint)
    sent = server.requests[0]
    assert sent["model"] == "fake" and sent["response_format"]["type"] == "json_schema"


def test_json_object_mode_sends_the_schema_for_grammar_servers():
    with FakeOpenAIServer([Reply(content=BLUEPRINT)]) as server:
        model = _model(server, APIGEN_MT_STRUCTURED_MODE="json_object")
        assert isinstance(make_proposer(model).invoke(INPUT), Blueprint)
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object" and "actions" in fmt["schema"]["properties"]


def test_tool_calls_reach_the_assistant():
    call = Reply(
        content=None, tool_calls=[{"name": "get_order_details", "arguments": {"order_id": "#W1"}}]
    )
    with FakeOpenAIServer([call]) as server:
        tools = [
            {
                "type": "function",
                "function": {
                    "name": "get_order_details",
                    "description": "d",
                    "parameters": {
                        "type": "object",
                        "properties": {"order_id": {"type": "string"}},
                    },
                },
            }
        ]
        reply = make_assistant(_model(server, "assistant"), "policy", tools).invoke(
            [HumanMessage("status of #W1?")]
        )
    assert reply.tool_calls[0]["args"] == {"order_id": "#W1"}
    assert server.requests[0]["tools"][0]["function"]["name"] == "get_order_details"


@pytest.mark.parametrize("first", ["lorem ipsum", '{"reasoning": "r"', '{"user_id": 5}'])
def test_garbage_then_valid_is_repaired_by_one_retry(first):
    with FakeOpenAIServer([Reply(content=first), Reply(content=BLUEPRINT)]) as server:
        assert isinstance(make_proposer(_model(server)).invoke(INPUT), Blueprint)
    assert "not usable" in server.requests[1]["messages"][-1]["content"]


def test_garbage_twice_is_a_recorded_failure():
    with FakeOpenAIServer([Reply(content="nope"), Reply(content="still nope")]) as server:
        result = make_proposer(_model(server)).invoke(INPUT)
    assert isinstance(result, RoleFailure) and result.kind == "invalid_output"
    assert result.raw == "still nope"


@pytest.mark.parametrize(
    "faults",
    [
        [Fault(429, {"Retry-After": "0"})],
        [Fault(500), Fault(503)],
        [Reset()],
        [Stall(1.5)],
    ],
    ids=["429-retry-after", "5xx", "connection-reset", "timeout"],
)
def test_transport_faults_are_retried_with_backoff(faults):
    with FakeOpenAIServer([*faults, Reply(content=BLUEPRINT)]) as server:
        result = make_proposer(_model(server, APIGEN_MT_TIMEOUT="0.5")).invoke(INPUT)
    assert isinstance(result, Blueprint)
    assert len(server.requests) == len(faults) + 1 and server.served >= 1


def test_persistent_faults_end_as_a_transport_failure():
    with FakeOpenAIServer(responder=lambda body: Fault(500)) as server:
        result = make_proposer(_model(server, APIGEN_MT_MAX_RETRIES="2")).invoke(INPUT)
    assert isinstance(result, RoleFailure) and result.kind == "transport"
    assert len(server.requests) == 3  # first try + 2 retries


def test_token_usage_is_accounted_from_the_endpoint():
    ledger = UsageLedger()
    with FakeOpenAIServer([Reply(content=BLUEPRINT, prompt_tokens=120, completion_tokens=30)]) as s:
        make_proposer(_model(s, ledger=ledger)).invoke(INPUT)
    assert ledger.by_role()["proposer"].model_dump() == {
        "calls": 1,
        "prompt_tokens": 120,
        "completion_tokens": 30,
    }


def test_response_cache_makes_reruns_free(tmp_path):
    cache = str(tmp_path / "responses.sqlite")
    with FakeOpenAIServer(responder=lambda body: Reply(content=BLUEPRINT)) as server:
        for _ in range(3):
            model = _model(server, APIGEN_MT_CACHE_RESPONSES=cache)
            assert isinstance(make_proposer(model).invoke(INPUT), Blueprint)
    assert len(server.requests) == 1


def test_local_servers_get_max_tokens_they_understand():
    # llama.cpp ignores `max_completion_tokens` (what langchain-openai sends); without
    # `max_tokens` a tiny model rambles to the end of its context.
    with FakeOpenAIServer([Reply(content="hi")]) as server:
        _model(server, APIGEN_MT_MAX_TOKENS="64").invoke("hello")
    assert server.requests[0]["max_tokens"] == 64
