"""One RL episode on a verified task: the agent's actions on the episode's sandbox, the
simulated user's replies, and the verifier's reward at the end.

This is the core every adapter drives (the Gymnasium environment, the MCP server, the
`verifiers` and TRL adapters). An action is a tool call or a message to the user; each
counts one step, as τ-bench counts agent actions. The episode ends (`terminated`) when
the user stops or transfers (`###STOP###`, τ²'s three tokens, or the transfer tool under
our protocol) and is cut off (`truncated`) at the step limit; a role or tool server that
fails ends it too, with the reason. The reward is the verifier's: 1.0 when the final
database equals the gold state and every expected output was said (τ²'s product of its
reward basis for τ² tasks), with the components behind it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

from apigen_mt.agents import RoleFailure, Turn, is_stop
from apigen_mt.agents.acting_user import ActingUser, acting_user_system, is_user_side, user_side
from apigen_mt.agents.tau2_user import (
    TAU2_GREETING,
    Tau2User,
    guidelines_beside,
    is_tau2_stop,
    tau2_user_system,
)
from apigen_mt.environments.taubench import run_setup
from apigen_mt.graphs.evaluate import DEFAULT_MAX_STEPS
from apigen_mt.graphs.human_turn import UserChecks, human_turn, user_view
from apigen_mt.graphs.tau2_reward import env_assertion_checks, tau2_reward
from apigen_mt.graphs.user_tools import MAX_USER_TOOL_ROUNDS
from apigen_mt.graphs.verify import verify
from apigen_mt.tools import ToolUnavailable
from apigen_mt.tools.execute import ERROR_PREFIX

from .task_set import TaskSet

TRANSFER_TOOL = "transfer_to_human_agents"

# A scripted user: (instruction, what the user has seen) -> its reply. For benchmarks and
# tests of an agent loop without any LLM; a chat model is the simulated user otherwise.
UserFn = Callable[[str, list[Turn]], "str | Awaitable[str]"]


class EpisodeReward(BaseModel):
    reward: float
    components: dict[str, Any]


class Action(BaseModel):
    """A parsed action: a tool call (`tool`, `arguments`) or a message to the user."""

    tool: str | None = None
    arguments: dict[str, Any] = {}
    message: str | None = None


def parse_action(action: Any) -> Action | str:
    """An `Action`, or the error observation an invalid one gets (as a model would). Text
    is a message to the user, unless it is a JSON object (also in a ``` fence): a call, or,
    cut off mid-JSON, an error."""
    if isinstance(action, str):
        text = action.strip()
        if text.startswith("```") and text.endswith("```"):
            text = "\n".join(text.splitlines()[1:-1]).strip()
        if not text.startswith("{"):
            return Action(message=action)
        try:
            action = json.loads(text)
        except json.JSONDecodeError:
            shown = text if len(text) <= 200 else text[:200] + "…"
            return f"{ERROR_PREFIX}the action is not valid JSON ({shown!r}); send it again complete"
    if not isinstance(action, dict):
        return (
            f"{ERROR_PREFIX}an action is {{'tool': NAME, 'arguments': {{...}}}} "
            "or {'message': TEXT}"
        )
    if "message" in action and "tool" not in action:
        if not isinstance(action["message"], str):
            return f"{ERROR_PREFIX}'message' must be text"
        return Action(message=action["message"])
    name = action.get("tool", action.get("name"))
    if not isinstance(name, str) or not name:
        return f"{ERROR_PREFIX}an action needs 'tool' (a tool name) or 'message' (text)"
    arguments = action.get("arguments", {})
    if isinstance(arguments, str):  # a model's JSON string, perhaps cut off
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            shown = arguments if len(arguments) <= 200 else arguments[:200] + "…"
            return (
                f"{ERROR_PREFIX}the arguments of {name} are not valid JSON ({shown!r}); "
                "call the tool again with complete JSON arguments"
            )
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return f"{ERROR_PREFIX}the arguments of {name} must be a JSON object"
    return Action(tool=name, arguments=arguments)


class Episode:
    """An episode over `task_set`; `reset` starts one (a fresh sandbox, the task's setup,
    the user's opening message), the other methods act in it."""

    def __init__(
        self,
        task_set: TaskSet,
        *,
        user: BaseChatModel | UserFn | None = None,
        judge: BaseChatModel | None = None,
        nl_judge: BaseChatModel | None = None,
        roles: Any = None,
        protocol: str = "apigen",
        tau2_guidelines: str | None = None,
        max_steps: int | None = None,
        best_of_n: int = 1,
        seed: int = 0,
    ):
        if protocol not in DEFAULT_MAX_STEPS:
            raise ValueError(f"protocol is apigen or tau2, not {protocol!r}")
        max_steps = max_steps or DEFAULT_MAX_STEPS[protocol]
        if tau2_guidelines is None and protocol == "tau2":  # beside the tasks' τ² file
            tau2_guidelines = guidelines_beside(
                task_set.source_file, tools=task_set.env.domain.user_tools is not None
            )
        if max_steps < 1 or best_of_n < 1:
            raise ValueError("max_steps and best_of_n must be >= 1")
        self.task_set, self.user, self.judge, self.nl_judge = task_set, user, judge, nl_judge
        # the roles' configured endpoints (apigen_mt.rl.user.ConfiguredRoles), resolved at
        # the first reset: an embedded model is started only when an episode needs it
        self._roles = roles
        self.protocol, self.guidelines = protocol, tau2_guidelines or ""
        self.max_steps, self.best_of_n, self.seed = max_steps, best_of_n, seed
        self.tools = task_set.env.domain.tools
        self.index: int | None = None
        self.sandbox = None
        self.messages: list[BaseMessage] = []
        self.steps = 0
        self.ended_by = ""
        self.reason = ""
        self._reward: EpisodeReward | None = None

    # ---- state ---------------------------------------------------------------------
    @property
    def task(self) -> dict[str, Any]:
        if self.index is None:
            raise RuntimeError("no episode: call reset() first")
        return self.task_set.task(self.index)

    @property
    def terminated(self) -> bool:
        return bool(self.ended_by) and self.ended_by != "turn_limit"

    @property
    def truncated(self) -> bool:
        return self.ended_by == "turn_limit"

    @property
    def done(self) -> bool:
        return bool(self.ended_by)

    # ---- acting --------------------------------------------------------------------
    async def reset(self, task_index: int) -> str:
        """A new episode on task `task_index`; returns the user's opening message."""
        task = self.task_set.task(task_index)
        if self._roles is not None:
            self.user = self._roles.user()
            self.judge, self.nl_judge = self._roles.judge(), self._roles.nl_judge()
            self._roles = None
        self.close()
        self.index, self.steps, self.ended_by, self.reason = task_index, 0, "", ""
        self._reward = None
        self.sandbox = self.task_set.env.sandbox()
        run_setup(self.sandbox, task)
        self.messages = [AIMessage(TAU2_GREETING)] if self.protocol == "tau2" else []
        return await self._user_turn()

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        """Run one tool call on the sandbox; its observation (an error text for an unknown
        tool or bad arguments, as a model gets)."""
        self._acting()
        call_id = f"call_{len(self.messages)}"
        args = arguments or {}
        self.messages.append(
            AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}])
        )
        try:
            observation = self.sandbox.call(name, args).observation
        except ToolUnavailable as exc:
            observation = f"{ERROR_PREFIX}the tool server failed: {exc}"
            self._end("tool_failure", f"tools: {exc}")
        self.messages.append(ToolMessage(observation, tool_call_id=call_id, name=name))
        self._count()
        if self.protocol == "apigen" and name == TRANSFER_TOOL and not self.done:
            self._end("transfer")
        return observation

    def invalid_action(self, observation: str) -> str:
        """An action that could not be parsed: it counts as a step, and says why."""
        self._acting()
        self.messages.append(AIMessage(observation, additional_kwargs={"invalid_action": True}))
        self._count()
        return observation

    async def send_message(self, text: str) -> str:
        """Say `text` to the user; returns the user's reply ("" when the episode ended
        without one)."""
        self._acting()
        self.messages.append(AIMessage(text))
        self._count()
        if self.done:  # the step limit: the user does not answer past it
            return ""
        return await self._user_turn()

    async def act(self, action: Any) -> str:
        """One action as the Gymnasium and MCP adapters receive it."""
        parsed = parse_action(action)
        if isinstance(parsed, str):
            return self.invalid_action(parsed)
        if parsed.message is not None:
            return await self.send_message(parsed.message)
        return self.call_tool(parsed.tool, parsed.arguments)

    # ---- the verifier --------------------------------------------------------------
    async def verify(self) -> EpisodeReward:
        """The verifier's reward for the episode as it stands (an episode not yet ended is
        scored on its current state; τ² tasks score 0 unless they ended properly)."""
        if self._reward is not None and self.done:
            return self._reward
        task = self.task
        said = [str(m.content) for m in self.messages if _agent_said(m)]
        verdict = verify(
            self.task_set.env,
            self.sandbox,
            task["actions"],
            task.get("outputs", []),
            said,
            gold_hash=self.task_set.gold_hash(self.index),
            prepare=lambda gold: run_setup(gold, task),
        )
        components: dict[str, Any] = {
            "state_matches": verdict.state_matches,
            "tables_differ": sorted({d["table"] for d in verdict.diff}),
            "missing_outputs": verdict.missing_outputs,
            "diff": verdict.diff_text,
            "ended_by": self.ended_by,
            "steps": self.steps,
        }
        reward = float(verdict.accepted and self.ended_by != "tool_failure")
        if task.get("tau2"):
            tau2 = await tau2_reward(
                task["tau2"], self.messages, db_match=verdict.state_matches,
                ended_by=self.ended_by if self.done else "user_stop",
                nl_judge_model=self.nl_judge,
                env_checks=env_assertion_checks(self.sandbox, task["tau2"]),
            )  # fmt: skip
            components["tau2"] = tau2.model_dump()
            reward = tau2.reward if self.ended_by != "tool_failure" else 0.0
            if task.get("exact_state") and not verdict.state_matches:
                reward = 0.0  # a generated task: its proven state, too (as phase 2 keeps)
        result = EpisodeReward(reward=reward, components=components)
        if self.done:
            self._reward = result
        return result

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    # ---- private -------------------------------------------------------------------
    def _acting(self) -> None:
        if self.sandbox is None:
            raise RuntimeError("no episode: call reset() first")
        if self.done:
            raise RuntimeError(f"the episode has ended ({self.ended_by}); call reset()")

    def _count(self) -> None:
        self.steps += 1
        if self.steps >= self.max_steps and not self.done:
            self._end("turn_limit")

    def _end(self, ended_by: str, reason: str = "") -> None:
        self.ended_by, self.reason = ended_by, reason

    async def _user_turn(self) -> str:
        task = self.task
        if self.user is None:
            raise RuntimeError("the episode has no simulated user (pass user=...)")
        if isinstance(self.user, BaseChatModel):
            acting = self.task_set.env.domain.user_tools is not None
            reply, failure = await (self._acting_reply(task) if acting else self._model_reply(task))
        else:
            reply, failure = await self._scripted_reply(task)
        if failure:
            self._end("human_failure", failure)
            return ""
        self.messages.append(HumanMessage(reply))
        stopped = is_tau2_stop(reply) if self.protocol == "tau2" else is_stop(reply)
        if stopped:
            self._end("user_stop")
        return reply

    async def _scripted_reply(self, task: dict[str, Any]) -> tuple[str, str]:
        """A scripted user: text, or (dual control) {"tool_calls": [{name, arguments}]}
        to act on its own side first (it is asked again after the results)."""
        for _ in range(MAX_USER_TOOL_ROUNDS + 1):
            reply = self.user(task["instruction"], user_view(self.messages))
            reply = await reply if inspect.isawaitable(reply) else reply
            if isinstance(reply, dict) and reply.get("tool_calls"):
                calls = [
                    {
                        "name": c["name"],
                        "args": c.get("arguments", {}),
                        "id": f"u{len(self.messages)}_{k}",
                    }
                    for k, c in enumerate(reply["tool_calls"])
                ]
                self._user_acts(AIMessage("", tool_calls=calls))
                continue
            if isinstance(reply, str):
                return reply, ""
            return "", f"user: returned {type(reply).__name__}"
        return "", f"user: {MAX_USER_TOOL_ROUNDS} tool rounds in one turn"

    async def _acting_reply(self, task: dict[str, Any]) -> tuple[str, str]:
        """A user with tools of its own (dual control): its calls run on its side of the
        sandbox, their results go to it alone, until it says something."""
        guidelines = self.guidelines if self.protocol == "tau2" else None
        user = ActingUser(
            self.user,
            acting_user_system(task["instruction"], guidelines),
            self.task_set.env.domain.user_tools.openai_schemas(),
        )
        for _ in range(MAX_USER_TOOL_ROUNDS):
            reply = await user.ainvoke(self.messages)
            if isinstance(reply, RoleFailure):
                return "", str(reply)
            if not reply.tool_calls:
                text = reply.text.strip()
                return (text, "") if text else ("", "human: empty reply")
            self._user_acts(reply)
        return "", f"human: {MAX_USER_TOOL_ROUNDS} tool rounds in one turn"

    def _user_acts(self, reply: AIMessage) -> None:
        self.messages.append(
            user_side(AIMessage(str(reply.content or ""), tool_calls=reply.tool_calls))
        )
        for call in reply.tool_calls:
            entry = self.sandbox.call(call["name"], call["args"], requestor="user")
            self.messages.append(
                user_side(
                    ToolMessage(entry.observation, tool_call_id=call["id"], name=call["name"])
                )
            )

    async def _model_reply(self, task: dict[str, Any]) -> tuple[str, str]:
        if self.protocol == "tau2":
            system = tau2_user_system(self.guidelines, task["instruction"])
            reply = await Tau2User(self.user, system).ainvoke(user_view(self.messages))
            return ("", str(reply)) if isinstance(reply, RoleFailure) else (reply, "")
        choice = await human_turn(
            self.user,
            self.judge,
            task["instruction"],
            task.get("persona", ""),
            self.messages,
            n=self.best_of_n,
            seed=f"{self.seed}:{task.get('source', self.index)}",
            checks=UserChecks(
                write_names=tuple(self.tools.write_names),
                gold_actions=task["actions"],
                trace=self.sandbox.trace,
            ),
        )
        return (choice.text, "") if choice.text is not None else ("", choice.failure)


def _agent_said(message: BaseMessage) -> bool:
    return (
        isinstance(message, AIMessage)
        and bool(message.content)
        and not message.additional_kwargs.get("invalid_action")
        and not is_user_side(message)
    )
