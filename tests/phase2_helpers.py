"""Scripted phase-2 roles: a user who states the task and stops when told it is done, an
agent that replays a fixed action list and then reports, and a keyword judge."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from apigen_mt.agents import STOP
from apigen_mt.graphs.context import DialogueContext
from apigen_mt.store import RunStore
from apigen_mt.testing import ScriptedChatModel, tool_call

DONE = "All done."


def scripted_user(opening: str = "Hi, I need help with my order."):
    def reply(messages):
        agent_said = [m.content for m in messages if isinstance(m, HumanMessage)]
        return STOP if agent_said and DONE in agent_said[-1] else opening

    return reply


def replaying_agent(actions: list[dict], outputs: list[str] = ()):
    """Calls each action in turn, then says DONE plus the outputs."""

    def reply(messages):
        done = sum(isinstance(m, ToolMessage) for m in messages)
        if done < len(actions):
            return tool_call(actions[done]["name"], actions[done]["arguments"])
        return AIMessage(content=f"{DONE} " + " ".join(outputs))

    return reply


def dialogue_context(env, actions, outputs=(), *, user=None, agent_actions=None, **kw):
    human = ScriptedChatModel(responder=user or scripted_user())
    agent = ScriptedChatModel(
        responder=replaying_agent(
            actions if agent_actions is None else agent_actions, list(outputs)
        )
    )
    return DialogueContext(
        env=env, store=RunStore(), human=human, assistant=agent, **{"best_of_n": 1, **kw}
    )


def add_task(ctx, actions, outputs=(), instruction="You want your order handled.", user_id=""):
    return ctx.store.save_task(
        {
            "user_id": user_id,
            "instruction": instruction,
            "persona": "",
            "actions": actions,
            "outputs": list(outputs),
        }
    )


def is_system(m) -> bool:
    return isinstance(m, SystemMessage)


def json_args(call) -> str:
    return json.dumps(call["args"], sort_keys=True)
