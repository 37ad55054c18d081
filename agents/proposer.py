"""Proposer: writes a task blueprint (instruction, gold actions, expected outputs)."""

from __future__ import annotations

import json
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from .blueprint_schema import blueprint_schema, drop_unset_arguments
from .structured import StructuredRole, json_schema_of

# Lengths a grammar-constrained server (json_object mode) enforces on free text and lists,
# so a small model cannot spend its whole token budget on one field; strict json_schema
# mode leaves them out (OpenAI refuses maxLength there) and parsing never applies them.
GRAMMAR_MAX_REASONING = 300
GRAMMAR_MAX_INSTRUCTION = 700


class Action(BaseModel):
    name: str = Field(description="A tool name from the list given.")
    arguments: dict[str, Any] = Field(default_factory=dict)
    # dual control (τ²'s telecom): whose tool it is; the agent's unless the user's
    requestor: Literal["assistant", "user"] = "assistant"


class Computation(BaseModel):
    output: str = Field(description="One of the outputs.")
    expression: str = Field(
        description="Arithmetic over numbers in the tool results that gives it, e.g. "
        "'532.58 + 560.76'."
    )


class Blueprint(BaseModel):
    reasoning: str = Field(
        description="Brief plan: which records, which changes, why valid.",
        json_schema_extra={"maxLength": GRAMMAR_MAX_REASONING},
    )
    user_id: str
    instruction: str = Field(
        description="What the user wants, in second person, with every "
        "detail the user needs to say.",
        json_schema_extra={"maxLength": GRAMMAR_MAX_INSTRUCTION},
    )
    actions: list[Action] = Field(json_schema_extra={"maxItems": 20})
    outputs: list[str] = Field(
        default_factory=list,
        description="Exact short values the agent must say (numbers, ids, names): no commas, "
        "no sentences; often none.",
        json_schema_extra={"maxItems": 6, "items": {"type": "string", "maxLength": 80}},
    )
    computations: list[Computation] = Field(
        default_factory=list,
        description="For an output computed from the tool results (a total): how.",
        json_schema_extra={"maxItems": 4},
    )


class ProposerInput(BaseModel):
    domain: str
    policy: str  # the domain's whole policy: every rule applies to every task
    tools: list[dict[str, Any]]  # OpenAI function schemas, write tools first
    records: str  # JSON of the sampled user and their records
    persona: str
    examples: list[str] = Field(default_factory=list)  # JSON blueprints
    feedback: str | None = None  # the improvement plan from the last round
    previous: str | None = None  # the last round's blueprint JSON
    focus_rules: list[str] = Field(default_factory=list)  # sampled rules to exercise
    skeleton: list[str] = Field(default_factory=list)  # the walk's writes, in order
    reads: list[str] = Field(default_factory=list)  # the walk's reads that feed them
    user_id: str | None = None  # the sampled user: the only user id the schema allows
    # id-like argument name -> the ids in the records it may take (from the domain's hook)
    id_choices: dict[str, list[str]] = Field(default_factory=dict)
    # dual control (τ²'s telecom): the user's own tools, and the scene the task starts from
    user_tools: list[dict[str, Any]] = Field(default_factory=list)
    scene: str | None = None


SYSTEM = """You design realistic customer-service tasks for the {domain} domain. Each task is \
a blueprint: an instruction for a simulated user, the exact tool calls an agent must make to \
fulfil it (the ground-truth actions), and the short facts the agent must tell the user.

Rules:
- Build the task around state-changing tool calls; read-only lookups are optional.
- Answer information requests through `outputs`, not through extra read calls. Outputs are \
exact short values the agent will say (a number, an id, a name): no commas (1234.50, not \
1,234.50), no sentences. Each must appear in what the calls return; a value computed from \
them (a total) needs an entry in `computations` with its arithmetic.
- Use only the tools listed, with every argument filled exactly from the records given: real \
ids, real values. Invent nothing.
- Every action must be allowed by the whole policy; exercise the rules named for this task.
- Build the task around the writes of the task's core, in that order.
- The instruction is written to the user ("You ... You want ..."), gives the identity details \
the policy requires the user to give (for example an email, or a name and zip code) and \
everything else they need to say, and fits the persona. It never names tools.
- Do not copy the examples; vary goals, wording and structure.
Reply with one JSON object: reasoning, user_id, instruction, actions [{{name, arguments}}], \
outputs, computations [{{output, expression}}]."""

DUAL_CONTROL = """## Who acts (dual control)
The task starts from the scene below: something is broken on the user's device or on \
their line. The agent's tools act on the company's records; the user's tools act on the \
user's own device, and only the user can run them: the agent must ask the user to (and \
the user tells the agent what they see). Every action names its requestor: "assistant" \
for the agent's tools, "user" for the user's. The gold actions are the fix, in the order \
the conversation would reach them: together they must make every condition of the scene \
hold, and nothing beyond the fix. The instruction says what the user knows (who they \
are, where they are, what they see, what they will or will not accept) — never the cause \
or the fix, which the user does not know, and never tool names."""


def proposer_prompt(x: ProposerInput) -> list[BaseMessage]:
    parts = [f"## Policy (every rule applies)\n{x.policy}"]
    if x.focus_rules:
        parts.append(
            "## Rules this task should exercise\n" + "\n".join(f"- {r}" for r in x.focus_rules)
        )
    if x.skeleton:
        steps = "\n".join(f"{i}. {name}" for i, name in enumerate(x.skeleton, 1))
        core = f"## The task's core\nBuild the task around these writes, in this order:\n{steps}"
        if x.reads:
            core += f"\n(Reads that feed them, for the agent: {', '.join(x.reads)}.)"
        parts.append(core)
    if x.scene:
        parts += [DUAL_CONTROL, f"## The scene\n{x.scene}"]
    parts.append(f"## Tools\n{json.dumps(x.tools)}")
    if x.user_tools:
        parts.append(
            '## The user\'s tools (requestor "user": on their own device)\n'
            + json.dumps(x.user_tools)
        )
    parts += [
        f"## The user and their records\n{x.records}",
        f"## Persona of the user\n{x.persona}",
    ]
    if x.examples:
        parts.append("## Examples of good blueprints (do not copy)\n" + "\n".join(x.examples))
    if x.previous:
        parts.append(f"## Your previous blueprint\n{x.previous}")
    if x.feedback:
        parts.append(f"## Feedback to address in this round\n{x.feedback}")
    parts.append("Write the blueprint now.")
    return [SystemMessage(SYSTEM.format(domain=x.domain)), HumanMessage("\n\n".join(parts))]


def proposer_schema(x: ProposerInput) -> dict[str, Any]:
    """The response schema for this context: real tools, their arguments, real ids."""
    return blueprint_schema(
        json_schema_of(Blueprint), x.tools, x.user_id, x.id_choices, user_tools=x.user_tools
    )


def _without_forced_nulls(x: ProposerInput, bp: Blueprint) -> Blueprint:
    tools = {t["function"]["name"]: t for t in [*x.tools, *x.user_tools]}
    for action in bp.actions:
        action.arguments = drop_unset_arguments(action.arguments, tools.get(action.name))
    return bp


def make_proposer(model: BaseChatModel) -> StructuredRole[ProposerInput, Blueprint]:
    return StructuredRole(
        "proposer",
        model,
        Blueprint,
        proposer_prompt,
        response_schema=proposer_schema,
        finish=_without_forced_nulls,
    )
