"""Every role with scripted models: valid answers, one retry with the error shown, typed
failures instead of exceptions."""

import json

import pytest
from langchain_core.messages import HumanMessage

from apigen_mt.agents import (
    STOP,
    Blueprint,
    FeedbackInput,
    HumanInput,
    JudgeInput,
    ProposerInput,
    RecombineInput,
    Review,
    ReviewInput,
    RoleFailure,
    Turn,
    is_stop,
    make_assistant,
    make_feedback,
    make_human,
    make_human_judge,
    make_proposer,
    make_recombiner,
    make_reviewer,
)
from apigen_mt.agents.structured import json_schema_of, parse_json_reply, response_format
from apigen_mt.environments import get_domain
from apigen_mt.testing import ScriptedChatModel, tool_call
from apigen_mt.usage import UsageLedger

BLUEPRINT = {
    "reasoning": "cancel a pending order",
    "user_id": "u1",
    "instruction": "You are u1 and want to cancel order #W1 because you no longer need it.",
    "actions": [
        {
            "name": "cancel_pending_order",
            "arguments": {"order_id": "#W1", "reason": "no longer needed"},
        }
    ],
    "outputs": [],
}
PROPOSER_INPUT = ProposerInput(
    domain="retail",
    policy="- cancel only pending orders",
    tools=[],
    records="{}",
    persona="a busy nurse",
)


def test_proposer_parses_a_valid_blueprint():
    model = ScriptedChatModel(script=[json.dumps(BLUEPRINT)])
    result = make_proposer(model).invoke(PROPOSER_INPUT)
    assert isinstance(result, Blueprint) and result.actions[0].name == "cancel_pending_order"
    fmt = model.calls[0]["kwargs"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Blueprint"
    assert "$ref" not in json.dumps(fmt) and "$defs" not in json.dumps(fmt)
    prompt = model.calls[0]["messages"][1].content
    assert "a busy nurse" in prompt and "cancel only pending orders" in prompt


def test_invalid_output_is_shown_back_once_then_accepted():
    model = ScriptedChatModel(script=["I think the answer is", json.dumps(BLUEPRINT)])
    result = make_proposer(model).invoke(PROPOSER_INPUT)
    assert isinstance(result, Blueprint)
    retry = model.calls[1]["messages"]
    assert retry[-2].content == "I think the answer is"
    assert "not usable: not valid JSON" in retry[-1].content


def test_schema_invalid_twice_is_a_typed_failure_with_the_raw_reply():
    bad = json.dumps({**BLUEPRINT, "actions": "cancel it"})
    model = ScriptedChatModel(script=[bad, bad])
    result = make_proposer(model).invoke(PROPOSER_INPUT)
    assert isinstance(result, RoleFailure) and result.kind == "invalid_output"
    assert "actions" in result.reason and result.raw == bad and len(model.calls) == 2


def test_a_model_exception_is_a_failure_not_a_crash():
    model = ScriptedChatModel(script=[ConnectionError("reset by peer")])
    result = make_proposer(model).invoke(PROPOSER_INPUT)
    assert isinstance(result, RoleFailure) and result.kind == "transport"


async def test_async_path_matches():
    model = ScriptedChatModel(script=["```json\n" + json.dumps(BLUEPRINT) + "\n```"])
    assert isinstance(await make_proposer(model).ainvoke(PROPOSER_INPUT), Blueprint)


def test_reviewer_total_is_the_sum_and_scores_are_0_or_1():
    review = {
        "reflection": "fine",
        "correctness": 1,
        "completeness": 1,
        "satisfaction": 0,
        "creativity": 1,
        "total": 4,
        "correction": "ask for the reason",
    }
    model = ScriptedChatModel(script=[json.dumps({**review, "creativity": 3}), json.dumps(review)])
    result = make_reviewer(model).invoke(ReviewInput(blueprint="{}", tools="", diff="", policy=""))
    assert isinstance(result, Review) and result.total == 3
    assert "creativity" in model.calls[1]["messages"][-1].content


def test_the_judge_scores_every_candidate_in_one_answer_as_an_enum_of_0_to_10():
    model_ = ScriptedChatModel()
    schema = json_schema_of(make_human_judge(model_, 3).schema)
    assert schema["required"] == ["reasoning", "candidate_1", "candidate_2", "candidate_3"]
    assert schema["properties"]["candidate_2"]["enum"] == list(range(11))
    with pytest.raises(ValueError):  # out of range
        parse_json_reply(
            '{"reasoning": "r", "candidate_1": 11}', make_human_judge(model_, 1).schema
        )
    model = ScriptedChatModel(
        script=[
            '{"reasoning": "ok", "candidate_1": 7}',  # one score missing: asked again
            '{"reasoning": "ok", "candidate_1": 7, "candidate_2": 3}',
        ]
    )
    judge = make_human_judge(model, 2)
    x = JudgeInput(instruction="i", persona="p", transcript="", candidates=["a", "b"])
    assert judge.invoke(x).scores() == [7, 3]
    prompt = model.calls[0]["messages"][-1].content
    assert "### Candidate 2\nb" in prompt and "## Persona\np" in prompt


def test_feedback_and_recombiner():
    plan = make_feedback(
        ScriptedChatModel(script=['{"summary": "s", "plan": ["use #W2"]}'])
    ).invoke(FeedbackInput(blueprint="{}", reasons=["format: unknown tool"], reviews=[]))
    assert plan.render() == "s\n1. use #W2"
    combined = make_recombiner(
        ScriptedChatModel(script=['{"reasoning": "r", "instruction": "both"}'])
    ).invoke(RecombineInput(instructions=["a", "b"], actions="[]", outputs=[], persona="p"))
    assert combined.instruction == "both"


def test_json_object_mode_for_local_servers():
    model = ScriptedChatModel(metadata={"apigen_structured_mode": "json_object"})
    fmt = response_format(model, Blueprint)
    assert (
        fmt["type"] == "json_object" and fmt["schema"]["properties"]["actions"]["type"] == "array"
    )


def test_parse_tolerates_prose_around_json_but_not_garbage():
    assert (
        parse_json_reply(
            'Sure! {"reasoning": "r", "candidate_1": 3} hope it helps',
            make_human_judge(ScriptedChatModel(), 1).schema,
        ).candidate_1
        == 3
    )
    with pytest.raises(ValueError):
        parse_json_reply("no json here", Review)


def test_human_sees_the_agent_as_the_other_party_and_stops():
    model = ScriptedChatModel(script=["I want to cancel an order.", STOP])
    human = make_human(model)
    first = human.invoke(HumanInput(instruction="cancel #W1", persona="terse"))
    assert first == "I want to cancel an order."
    prompt = model.calls[0]["messages"]
    assert "cancel #W1" in prompt[0].content and "terse" in prompt[0].content
    assert isinstance(prompt[1], HumanMessage)  # the agent's greeting
    done = human.invoke(
        HumanInput(
            instruction="cancel #W1",
            transcript=[
                Turn(speaker="agent", text="Hi"),
                Turn(speaker="user", text=first),
                Turn(speaker="agent", text="Done. Anything else?"),
            ],
        )
    )
    assert is_stop(done)
    assert [type(m).__name__ for m in model.calls[1]["messages"][1:]] == [
        "HumanMessage",
        "AIMessage",
        "HumanMessage",
    ]


def test_assistant_binds_domain_tools_and_returns_tool_calls():
    domain = get_domain("retail")
    model = ScriptedChatModel(script=[tool_call("get_order_details", {"order_id": "#W1"})])
    agent = make_assistant(model, domain.policy, domain.tools.openai_schemas())
    reply = agent.invoke([HumanMessage("where is my order #W1?")])
    assert reply.tool_calls[0]["name"] == "get_order_details"
    call = model.calls[0]
    assert {t["function"]["name"] for t in call["kwargs"]["tools"]} == set(domain.tools.names)
    assert call["messages"][0].content.startswith("# Retail support policy")


def test_usage_is_accounted_per_role():
    ledger = UsageLedger()
    model = ScriptedChatModel(
        script=[json.dumps(BLUEPRINT)], callbacks=[ledger.handler("proposer")]
    )
    make_proposer(model).invoke(PROPOSER_INPUT, config={"tags": ["stage:propose"]})
    usage = ledger.by_role()["proposer"]
    assert usage.calls == 1 and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert ("proposer", "propose") in ledger.by_role_and_stage()
