"""Scripted logic for every LLM role, for offline demos, notebooks, tests and benchmarks.

`OracleRoles` plays all seven roles without a model: the proposer grounds a blueprint in the
records it is shown (via a per-domain `propose` function), reviewers approve, the user
states its instruction and stops when the agent is done, and the agent carries out the
blueprint's actions (in a dual-control domain it asks the user to run the user's own
actions, and the user does). It answers both ScriptedChatModel prompts (`chat_models()`) and raw
OpenAI requests to the loopback server (`fake_server_responder()`), so the real ChatOpenAI
path runs the same scenario. Roles are told apart by the schema of the requested JSON.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages import ToolMessage as LCToolMessage

from apigen_mt.agents import STOP

DONE = "All done."
PRIVATE = "(private - do not paste it)"  # in the simulated user's system prompt
# The oracle agent asking the user to act on their own device (dual control), as a support
# agent reads out a setting; the oracle user runs what it names.
ASK = re.compile(r"please run `(\w+)` with (\{.*\}) on your device", re.I)
RECORDS_HEADING = "## The user and their records\n"
MERGE_HEADING = "## Instructions to merge\n"
Proposal = Callable[[dict[str, Any]], dict[str, Any]]


def propose_retail(records: dict[str, Any]) -> dict[str, Any]:
    """Cancel the user's first pending order; users without one get a cancellation of a
    delivered order, which the execution check rejects (so demos show the feedback loop)."""
    orders = records.get("orders", {})
    pending = [o for o, v in orders.items() if v.get("status") == "pending"]
    order = (pending or list(orders) or ["#W0000000"])[0]
    return {
        "reasoning": "scripted oracle",
        "user_id": records.get("user_id", ""),
        "instruction": f"You are {records.get('user_id', '')} and no longer need order "
        f"{order}; you want it cancelled.",
        "actions": [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": order, "reason": "no longer needed"},
            }
        ],
        "outputs": [],
    }


PROPOSERS: dict[str, Proposal] = {"retail": propose_retail}
APPROVE = {
    "reflection": "The actions match the instruction.",
    "correctness": 1,
    "completeness": 1,
    "satisfaction": 1,
    "creativity": 1,
    "total": 4,
    "correction": "",
}


class OracleRoles:
    """Every role played from the prompts. `calls_per_message` > 1 and `text_with_calls`
    give its agent a capable model's habits: several gold calls in one message (parallel
    tool calls) and a sentence beside them."""

    def __init__(
        self,
        domain: str = "retail",
        propose: Proposal | None = None,
        *,
        calls_per_message: int = 1,
        text_with_calls: str = "",
        asks_the_user: bool = True,
    ):
        if propose is None and domain not in PROPOSERS:
            raise ValueError(f"no scripted proposer for domain {domain!r}; pass propose=")
        self.propose = propose or PROPOSERS[domain]
        self.calls_per_message = max(1, calls_per_message)
        self.text_with_calls = text_with_calls
        self.asks_the_user = asks_the_user  # dual control: its agent asks the user to act
        self._plans: dict[str, dict[str, Any]] = {}  # instruction -> {actions, outputs}
        self._lock = threading.Lock()

    # -- the roles, over plain (role, text) messages ---------------------------------------

    def reply(
        self, messages: list[tuple[str, str]], schema: dict | None, tools: bool
    ) -> str | list[dict[str, Any]]:
        """A text reply, or the tool calls to make: [{"name", "arguments"}, ...]."""
        fields = set((schema or {}).get("properties", {}))
        if "actions" in fields:
            return self._proposal(_containing(messages, RECORDS_HEADING), schema)
        if "correctness" in fields:
            return json.dumps(APPROVE)
        if "plan" in fields:
            return json.dumps({"summary": "scripted", "plan": ["fix what the checks name"]})
        if "candidate_1" in fields:  # the human judge: every candidate scored alike
            scores = {f: 8 for f in fields if f.startswith("candidate_")}
            return json.dumps({"reasoning": "faithful", **scores})
        if "instruction" in fields:
            return self._combined(_containing(messages, MERGE_HEADING))
        if PRIVATE in messages[0][1]:  # the simulated user (with its own tools, or not)
            return self._user(messages)
        if tools:
            return self._agent(messages)
        return self._user(messages)

    def _proposal(self, prompt: str, schema: dict | None) -> str:
        records = json.loads(prompt.split(RECORDS_HEADING, 1)[1].split("\n\n## ", 1)[0])
        if "## The scene\n" in prompt:  # dual control: the proposer reads the scene too
            records = {**records, "_prompt": prompt}
        blueprint = self.propose(records)
        self._remember(blueprint["instruction"], blueprint["actions"], blueprint["outputs"])
        return json.dumps(_as_schema_decodes(blueprint, schema))

    def _combined(self, prompt: str) -> str:
        parts = prompt.split(MERGE_HEADING, 1)[1].split("\n\n## Combined actions\n")
        instructions = [re.sub(r"^\d+\.\s*", "", ln) for ln in parts[0].splitlines() if ln]
        actions_text, rest = parts[1].split("\n\n## Facts the agent must tell\n", 1)
        instruction = " Then: ".join(instructions)
        try:
            outputs = list(ast.literal_eval(rest.split("\n\n## Persona", 1)[0]))
        except (ValueError, SyntaxError):
            outputs = []
        self._remember(instruction, json.loads(actions_text), outputs)
        return json.dumps({"reasoning": "scripted", "instruction": instruction})

    def expect(self, instruction: str, actions: list, outputs: list) -> None:
        """Teach the agent a task it did not see proposed (dialogues run on their own)."""
        self._remember(instruction, actions, outputs)

    def _remember(self, instruction: str, actions: list, outputs: list) -> None:
        with self._lock:
            self._plans[instruction.strip()] = {"actions": actions, "outputs": outputs}

    def _user(self, messages: list[tuple[str, str]]) -> str | list[dict[str, Any]]:
        system = messages[0][1]
        body = system.split(PRIVATE + ":\n", 1)[-1]
        body = re.split(r"\n+How to (?:talk|act):", body)[0]
        instruction = body.split("\nYour persona: ")[0].strip()  # may span several lines
        # From the simulator's side the agent speaks as "user" and it as "assistant".
        if any(DONE in text for role, text in messages[1:] if role == "user"):
            return STOP
        last_role, last = messages[-1]
        if last_role == "tool":  # a user who acted reports what their device showed
            return f"I did it. My device says: {last.splitlines()[0] if last else 'nothing'}"
        asked = ASK.search(last) if last_role == "user" else None
        if asked:  # the agent asks the user to act on their own device: they do
            return [{"name": asked.group(1), "arguments": json.loads(asked.group(2))}]
        spoken = any(role == "assistant" for role, _ in messages[1:])
        return "Yes, please go ahead." if spoken else instruction

    def _agent(self, messages: list[tuple[str, str]]) -> str | list[dict[str, Any]]:
        said = [text for role, text in messages if role == "user"]
        with self._lock:
            plan = self._plans.get(said[0].strip()) if said else None
        if plan is None:
            return "I am sorry, I cannot help with that."
        # done: the agent's own calls answered, and each time it asked the user to act
        asked = sum(role == "assistant" and bool(ASK.search(t)) for role, t in messages)
        done = sum(role == "tool" for role, _ in messages) + asked
        actions = [a for a in plan["actions"] if self.asks_the_user or a.get("requestor") != "user"]
        if done < len(actions):
            if actions[done].get("requestor") == "user":  # the user's to do: ask them
                a = actions[done]
                return (
                    f"Please run `{a['name']}` with {json.dumps(a['arguments'])} on your "
                    "device and tell me what it shows."
                )
            ours = list(itertools.takewhile(lambda a: a.get("requestor") != "user",
                                            actions[done:]))  # fmt: skip
            return [
                {"name": a["name"], "arguments": a["arguments"]}
                for a in ours[: self.calls_per_message]
            ]
        return " ".join([DONE, *map(str, plan["outputs"])])

    # -- adapters --------------------------------------------------------------------------

    def chat_responder(self) -> Callable[..., Any]:
        """For ScriptedChatModel(responder=...): sees LangChain messages and call kwargs."""

        def respond(messages: list[BaseMessage], kwargs: dict[str, Any] | None = None):
            kwargs = kwargs or {}
            out = self.reply(
                [(_role(m), str(m.content)) for m in messages],
                _schema_of(kwargs.get("response_format")),
                bool(kwargs.get("tools")),
            )
            if isinstance(out, list):
                return AIMessage(
                    content=self.text_with_calls,
                    tool_calls=[
                        {"name": c["name"], "args": c["arguments"], "id": _call_id()} for c in out
                    ],
                )
            return out

        return respond

    def fake_server_responder(self):
        """For FakeOpenAIServer(responder=...): sees the raw request body."""
        from .fake_openai import Reply

        def respond(body: dict[str, Any]):
            messages = [(m["role"], m.get("content") or "") for m in body.get("messages", [])]
            out = self.reply(
                messages, _schema_of(body.get("response_format")), bool(body.get("tools"))
            )
            if isinstance(out, list):
                return Reply(content=self.text_with_calls, tool_calls=out)
            return Reply(content=out)

        return respond

    def chat_models(self, delay: float = 0.0):
        """PipelineModels whose every role is this oracle (one model object per role)."""
        from apigen_mt.graphs.pipeline import PipelineModels

        from .scripted_chat import ScriptedChatModel

        def model() -> ScriptedChatModel:
            return ScriptedChatModel(responder=self.chat_responder(), delay=delay)

        return PipelineModels(
            proposer=model(),
            reviewers=[model()],
            feedback=model(),
            recombiner=model(),
            human=model(),
            human_judge=model(),
            assistant=model(),
        )


_ids = iter(range(10**12))


def _call_id() -> str:
    return f"call_oracle_{next(_ids)}"


def _containing(messages: list[tuple[str, str]], heading: str) -> str:
    """The prompt message (a retry appends the role's complaint after it)."""
    return next(text for _, text in reversed(messages) if heading in text)


def _role(m: BaseMessage) -> str:
    if isinstance(m, SystemMessage):
        return "system"
    if isinstance(m, HumanMessage):
        return "user"
    if isinstance(m, LCToolMessage):
        return "tool"
    return "assistant"


def _schema_of(response_format: Any) -> dict | None:
    if not isinstance(response_format, dict):
        return None
    if "json_schema" in response_format:
        return response_format["json_schema"].get("schema")
    return response_format.get("schema")


def _every_argument(given: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    nullable = {k for k, p in params.items() if {"type": "null"} in p.get("anyOf", [])}
    return {**{k: None for k in nullable}, **given}


def _as_schema_decodes(blueprint: dict[str, Any], schema: dict | None) -> dict[str, Any]:
    """The blueprint as decoding under `schema` writes it (every argument present: null
    for a left-out optional one), checked against the schema: a per-context schema that
    refuses the oracle's valid blueprint is a bug, raised here."""
    branches = ((schema or {}).get("properties", {}).get("actions", {}).get("items") or {}).get(
        "anyOf"
    )
    if not branches:
        return blueprint
    params = {
        b["properties"]["name"].get("const"): b["properties"]["arguments"]["properties"]
        for b in branches
    }
    blueprint = {**blueprint, "outputs": blueprint.get("outputs", [])}
    blueprint.setdefault("computations", [])
    blueprint["actions"] = [
        {**a, "arguments": _every_argument(a["arguments"], params.get(a["name"], {}))}
        for a in blueprint["actions"]
    ]
    try:
        import jsonschema
    except ImportError:  # the check needs the dev extra; the blueprint is still usable
        return blueprint
    try:
        jsonschema.validate(blueprint, schema)
    except jsonschema.ValidationError as exc:
        raise ValueError(f"the response schema refuses a valid blueprint: {exc.message}") from exc
    return blueprint
