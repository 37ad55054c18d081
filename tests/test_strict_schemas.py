"""Every role's response schema is one OpenAI's strict structured outputs accept, and the
proposer's is narrowed to the sampled context: real tools, their arguments, real ids."""

from __future__ import annotations

import copy
import json
import random

import jsonschema
import pytest

from apigen_mt.agents import (
    Blueprint,
    FeedbackPlan,
    ProposerInput,
    make_proposer,
)
from apigen_mt.agents.human_judge import judge_schema
from apigen_mt.agents.recombiner import CombinedInstruction
from apigen_mt.agents.reviewer import Review
from apigen_mt.agents.strict_schema import strict_violations, to_strict
from apigen_mt.agents.structured import json_schema_of, response_format
from apigen_mt.environments import Environment
from apigen_mt.graphs.sampling import (
    api_graph_of,
    example_pool_of,
    id_choices_of,
    sample_context,
    tool_schemas,
)
from apigen_mt.models import chat_model
from apigen_mt.settings import load_settings
from apigen_mt.testing import ScriptedChatModel
from apigen_mt.testing.fake_openai import FakeOpenAIServer, Reply

DOMAINS = ("retail", "airline", "banking")


@pytest.fixture(scope="module")
def contexts(cache_dir):
    """Eight sampled proposer inputs per domain, with the domain's environment."""
    out = {}
    for name in DOMAINS:
        env = Environment.generated(name, seed=0, cache_dir=cache_dir)
        graph, pool = api_graph_of(env), example_pool_of(env)
        inputs = []
        for i in range(8):
            s = sample_context(env, graph, pool, random.Random(f"strict:{i}"))
            inputs.append(
                ProposerInput(
                    domain=name,
                    policy="",
                    tools=tool_schemas(env, s.tools),
                    records=s.records,
                    persona=s.persona,
                    user_id=s.user_id,
                    id_choices=id_choices_of(env, s.records),
                )
            )
        out[name] = (env, inputs)
    return out


def _proposer_schema(x: ProposerInput) -> dict:
    return make_proposer(ScriptedChatModel()).schema_for(x)


ROLE_SCHEMAS = [Review, FeedbackPlan, CombinedInstruction, Blueprint] + [
    judge_schema(n) for n in range(1, 7)
]


@pytest.mark.parametrize("schema", ROLE_SCHEMAS, ids=lambda s: s.__name__)
def test_every_fixed_role_schema_is_strict(schema):
    assert strict_violations(json_schema_of(schema)) == []


def test_every_proposer_schema_is_strict(contexts):
    for name, (_, inputs) in contexts.items():
        for x in inputs:
            assert strict_violations(_proposer_schema(x)) == [], name


def test_the_checker_refuses_what_openai_refuses():
    ok = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    assert strict_violations(ok) == []
    bad = {
        "open object": {**ok, "additionalProperties": True},
        "optional property": {**ok, "required": []},
        "default": {**ok, "properties": {"a": {"type": "string", "default": "x"}}},
        "minLength": {**ok, "properties": {"a": {"type": "string", "minLength": 1}}},
        "free-form dict": {**ok, "properties": {"a": {"type": "object"}}},
        "root anyOf": {"anyOf": [ok]},
        "array without items": {**ok, "properties": {"a": {"type": "array"}}},
        "empty enum": {**ok, "properties": {"a": {"type": "string", "enum": []}}},
    }
    for why, schema in bad.items():
        assert strict_violations(schema), why


def test_to_strict_keeps_meaning_optional_becomes_nullable_or_defaulted():
    tool = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1, "title": "Id"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "limit": {"type": "integer", "default": 10, "minimum": 1},
            "tag": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},  # pydantic default_factory
        },
        "required": ["id"],
    }
    strict = to_strict(tool)
    assert strict_violations(strict) == []
    props = strict["properties"]
    assert set(strict["required"]) == {"id", "note", "limit", "tag", "tags"}
    assert props["id"] == {"type": "string"}
    assert {"type": "null"} in props["note"]["anyOf"]
    assert props["limit"]["minimum"] == 1 and "(default: 10)" in props["limit"]["description"]
    assert {"type": "null"} in props["tag"]["anyOf"]  # optional with no default: nullable
    # a list can always be written empty: required, never null (a null would not parse
    # into the role's list field)
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}


def test_proposer_schema_names_only_real_tools_the_user_and_their_ids(contexts):
    env, inputs = contexts["retail"]
    x = next(x for x in inputs if x.id_choices["order_id"])
    schema = _proposer_schema(x)
    assert schema["properties"]["user_id"]["const"] == x.user_id
    branches = schema["properties"]["actions"]["items"]["anyOf"]
    names = [b["properties"]["name"]["const"] for b in branches]
    assert names == [t["function"]["name"] for t in x.tools]
    assert set(names) <= set(env.domain.tools.names)
    cancel = next(b for b in branches if b["properties"]["name"]["const"] == "cancel_pending_order")
    args = cancel["properties"]["arguments"]["properties"]
    assert args["order_id"]["enum"] == sorted(x.id_choices["order_id"])
    assert args["reason"]["enum"] == ["no longer needed", "ordered by mistake"]  # the tool's own

    order = x.id_choices["order_id"][0]
    good = {
        "reasoning": "r",
        "user_id": x.user_id,
        "instruction": "You want it cancelled.",
        "actions": [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": order, "reason": "no longer needed"},
            }
        ],
        "outputs": [],
        "computations": [],
    }
    jsonschema.validate(good, schema)
    wrong = {
        "an invented tool": ("actions", 0, "name", "cancel_order"),
        "another user": ("user_id", None, None, "someone_else_123"),
        "an id not in the records": ("actions", 0, "arguments", {"order_id": "#W0000000"}),
        "an extra argument": ("actions", 0, "arguments", {"extra": 1}),
    }
    for why, (key, index, field, value) in wrong.items():
        bad = copy.deepcopy(good)
        if index is None:
            bad[key] = value
        elif field == "arguments":
            bad[key][index][field].update(value)
        else:
            bad[key][index][field] = value
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
            pytest.fail(why)


def test_seed_examples_decode_under_their_own_context_schema(contexts):
    """The narrowing never refuses a valid blueprint: each domain's hand-written seed
    blueprints, with their own user's records, fit the schema built for that context."""
    from apigen_mt.testing.scripted_roles import _as_schema_decodes

    for name, (env, _) in contexts.items():
        hooks = env.domain.tasks
        with env.sandbox() as sandbox:
            seeds = hooks.seed_examples(sandbox.db)
            for seed in seeds:
                records = hooks.records_for(sandbox.db, seed["user_id"])
                names = list(dict.fromkeys(a["name"] for a in seed["actions"]))
                x = ProposerInput(
                    domain=name,
                    policy="",
                    tools=tool_schemas(env, names),
                    records=records,
                    persona="",
                    user_id=seed["user_id"],
                    id_choices=id_choices_of(env, records),
                )
                _as_schema_decodes(seed, _proposer_schema(x))  # raises when refused
        assert seeds, name


def test_nulls_a_strict_schema_forces_are_dropped_before_the_checks(contexts):
    """A capable model under a strict schema writes every argument; the optional ones it
    leaves out come as null, and the blueprint gets them back out."""
    _, inputs = contexts["banking"]
    x = inputs[0]
    account = x.id_choices["account_id"][0]
    reply = {
        "reasoning": "r",
        "user_id": x.user_id,
        "instruction": "You want your phone changed.",
        "actions": [
            {
                "name": "update_contact_details",
                "arguments": {
                    "customer_id": x.user_id,
                    "phone": "555-0100",
                    "email": None,
                    "address": None,
                },
            },
            {"name": "list_transactions", "arguments": {"account_id": account, "limit": "5"}},
        ],
        "outputs": [],
        "computations": [],
    }
    model = ScriptedChatModel(script=[json.dumps(reply)])
    bp = make_proposer(model).invoke(x)
    assert isinstance(bp, Blueprint)
    assert bp.actions[0].arguments == {"customer_id": x.user_id, "phone": "555-0100"}
    assert bp.actions[1].arguments == {"account_id": account, "limit": "5"}  # kept as given
    sent = model.calls[0]["kwargs"]["response_format"]
    assert sent["json_schema"]["strict"] is True


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_strict_true_is_sent_and_a_refused_schema_falls_back_to_a_hint(contexts):
    _, inputs = contexts["airline"]
    blueprint = {
        "reasoning": "r",
        "user_id": inputs[0].user_id,
        "instruction": "i",
        "actions": [],
        "outputs": [],
        "computations": [],
    }
    with FakeOpenAIServer(responder=lambda body: Reply(content=json.dumps(blueprint))) as server:
        env = {
            "APIGEN_MT_BASE_URL": server.base_url,
            "APIGEN_MT_API_KEY": "k",
            "APIGEN_MT_MODEL": "fake",
        }
        model = chat_model("proposer", load_settings(env))
        assert isinstance(make_proposer(model).invoke(inputs[0]), Blueprint)
        sent = server.requests[-1]["response_format"]
        assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True
        assert sent["json_schema"]["schema"]["properties"]["user_id"]["const"] == inputs[0].user_id

        loose = {"type": "object", "properties": {"a": {"type": "object"}}}
        assert response_format(model, Blueprint, loose)["json_schema"]["strict"] is False

        off = chat_model("proposer", load_settings({**env, "APIGEN_MT_STRICT_SCHEMA": "false"}))
        assert response_format(off, Blueprint)["json_schema"]["strict"] is False


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_loopback_endpoint_refuses_a_non_strict_schema_like_openai():
    import openai

    with FakeOpenAIServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        schema = {"type": "object", "properties": {"a": {"type": "string"}}}
        refused = r"Invalid schema for response_format 'x': \(root\): additionalProperties"
        with pytest.raises(openai.BadRequestError, match=refused):
            client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "hi"}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": schema, "strict": True},
                },
            )
