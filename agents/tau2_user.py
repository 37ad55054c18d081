"""The simulated user and the agent's prompt as τ²-bench runs them (`eval --protocol tau2`).

τ²'s user simulator: its guidelines file (`user_simulator/simulation_guidelines.md` in τ²'s
data, read from there) with the task's scenario in a `<scenario>` block, one sample per
turn at the role's own temperature, and three tokens that end the conversation. τ²'s agent:
its short instruction and the domain policy in tagged blocks, and the greeting that opens
every conversation. Constants quoted from τ²-bench (MIT, Copyright (c) 2025 Sierra
Research) so a score is comparable with its leaderboard.
"""

from __future__ import annotations

import os
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from .human import Turn
from .structured import RoleFailure, call_role

TAU2_STOP_TOKENS = ("###STOP###", "###TRANSFER###", "###OUT-OF-SCOPE###")
TAU2_GREETING = "Hi! How can I help you today?"
TAU2_AGENT_INSTRUCTION = """You are a customer service agent that helps the user according \
to the <policy> provided below.
In each turn you can either:
- Send a message to the user.
- Make a tool call.
You cannot do both at the same time.

Try to be helpful and always follow the policy. Always make sure you generate valid JSON only."""
GUIDELINES_FILE = Path("tau2") / "user_simulator" / "simulation_guidelines.md"
# a user with tools of their own (dual control: τ²'s telecom)
TOOLS_GUIDELINES_FILE = GUIDELINES_FILE.with_name("simulation_guidelines_tools.md")


def tau2_agent_system(policy: str) -> str:
    return (
        f"<instructions>\n{TAU2_AGENT_INSTRUCTION}\n</instructions>\n<policy>\n{policy}\n</policy>"
    )


def is_tau2_stop(text: str) -> bool:
    return any(token in text for token in TAU2_STOP_TOKENS)


def find_guidelines(data_root: Path | None, tools: bool = False) -> str:
    """τ²'s user-simulator guidelines from its data folder (the root holding `tau2/`);
    `tools`: those for a user with tools of their own."""
    wanted = TOOLS_GUIDELINES_FILE if tools else GUIDELINES_FILE
    path = (data_root / wanted) if data_root else None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"--protocol tau2 needs τ²'s user-simulator guidelines ({wanted}); "
            f"not found under {data_root or '(no τ² data folder)'}: set $TAU2_DATA_DIR"
        )
    # no runtime persona: τ² fills <PERSONA_GUIDELINES> with nothing by default
    return path.read_text(encoding="utf-8").replace("<PERSONA_GUIDELINES>", "")


def guidelines_beside(task_file: Path | str | None, tools: bool = False) -> str:
    """τ²'s user-simulator guidelines from the τ² data folder holding `task_file` (its
    `tau2/domains/<d>/tasks.json`), else `$TAU2_DATA_DIR`; FileNotFoundError says where it
    looked. `tools`: those for a user with tools of their own."""
    roots = [Path(task_file).resolve().parents[i] for i in range(4)] if task_file else []
    if os.environ.get("TAU2_DATA_DIR"):
        roots.append(Path(os.environ["TAU2_DATA_DIR"]))
    for root in roots:
        if (root / GUIDELINES_FILE).is_file():
            return find_guidelines(root, tools)
    return find_guidelines(roots[-1] if roots else None, tools)  # raises, saying where


def tau2_user_system(guidelines: str, scenario: str) -> str:
    return f"{guidelines}\n\n<scenario>\n{scenario}\n</scenario>".strip()


class Tau2User:
    """One reply per turn; the agent's words are the other party ("human") from here."""

    name = "human"

    def __init__(self, model: BaseChatModel, system: str):
        self.model, self.system = model, SystemMessage(system)

    def prompt(self, turns: list[Turn]) -> list[BaseMessage]:
        history = [
            HumanMessage(t.text) if t.speaker == "agent" else AIMessage(t.text) for t in turns
        ]
        return [self.system, *history]

    async def ainvoke(
        self, turns: list[Turn], config: RunnableConfig | None = None
    ) -> str | RoleFailure:
        reply = await call_role(self.name, self.model, self.prompt(turns), config)
        if isinstance(reply, RoleFailure):
            return reply
        content = reply.content
        return content.strip() if isinstance(content, str) else str(content)
