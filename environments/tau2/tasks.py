"""τ²'s task files (`tasks.json`, `split_tasks.json`) as our tasks.

A τ² task states its user scenario (rendered for the simulated user exactly as τ² renders
it), an optional initial state (calls replayed before the episode and before the gold), and
its evaluation criteria: gold actions (with `compare_args` and a requestor), information
the agent must communicate, natural-language assertions, environment assertions, and the
`reward_basis` saying which of these the reward multiplies.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

RewardType = Literal["DB", "ENV_ASSERTION", "NL_ASSERTION", "ACTION", "COMMUNICATE"]
DEFAULT_REWARD_BASIS: list[RewardType] = ["DB", "COMMUNICATE"]  # τ²'s default


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StructuredInstructions(_Loose):
    domain: str
    reason_for_call: str
    known_info: str | None = None
    unknown_info: str | None = None
    task_instructions: str


class UserScenario(_Loose):
    persona: str | None = None
    instructions: StructuredInstructions | str


class Action(_Loose):
    action_id: str = ""
    requestor: Literal["user", "assistant"] = "assistant"
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    info: str | None = None
    compare_args: list[str] | None = None  # None: every argument the call was made with


class EnvFunctionCall(_Loose):
    env_type: Literal["user", "assistant"]
    func_name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class EnvAssertion(EnvFunctionCall):
    assert_value: bool = True
    message: str | None = None


class InitialState(_Loose):
    initialization_data: dict[str, Any] | None = None
    initialization_actions: list[EnvFunctionCall] | None = None
    message_history: list[dict[str, Any]] | None = None


class EvaluationCriteria(_Loose):
    actions: list[Action] | None = None
    env_assertions: list[EnvAssertion] | None = None
    communicate_info: list[str] | None = None
    nl_assertions: list[str] | None = None
    reward_basis: list[RewardType] = Field(default_factory=lambda: list(DEFAULT_REWARD_BASIS))


class Tau2Task(_Loose):
    id: str
    user_scenario: UserScenario
    initial_state: InitialState | None = None
    evaluation_criteria: EvaluationCriteria | None = None

    def criteria(self) -> EvaluationCriteria:
        return self.evaluation_criteria or EvaluationCriteria()


def render_scenario(scenario: UserScenario) -> str:
    """The scenario as τ²'s `str(UserScenario)` renders it for its user simulator
    (multi-line parts indented with tabs)."""
    lines = []
    if scenario.persona is not None:
        lines += ["Persona:", textwrap.indent(scenario.persona, "\t")]
    lines += ["Instructions:", textwrap.indent(_instructions(scenario.instructions), "\t")]
    return "\n".join(lines)


def _instructions(ins: StructuredInstructions | str) -> str:
    if isinstance(ins, str):
        return ins
    tab = "\t"
    lines = [
        f"Domain: {ins.domain}",
        f"Reason for call:\n{textwrap.indent(ins.reason_for_call, tab)}",
    ]
    if ins.known_info is not None:
        lines.append(f"Known info:\n{textwrap.indent(ins.known_info, tab)}")
    if ins.unknown_info is not None:
        lines.append(f"Unknown info:\n{textwrap.indent(ins.unknown_info, tab)}")
    lines.append(f"Task instructions:\n{textwrap.indent(ins.task_instructions, tab)}")
    return "\n".join(lines)


def is_tau2_task_file(raw: Any) -> bool:
    """τ²'s shape (objects with `user_scenario`), not τ-bench's (`instruction`, `actions`)."""
    return (
        isinstance(raw, list)
        and bool(raw)
        and all(isinstance(t, dict) and "user_scenario" in t for t in raw)
    )


def load_tau2_tasks(path: Path | str, split: str | None = None) -> list[Tau2Task]:
    """τ²'s tasks from `path`; with `split`, only those `split_<stem>.json` beside it lists
    under that name, in the file's order. ValueError in plain words on a bad file."""
    path = Path(path)
    raw = _read_json(path)
    if not is_tau2_task_file(raw):
        raise ValueError(f"{path}: not a τ² task file (a JSON list of tasks with user_scenario)")
    tasks = []
    for i, item in enumerate(raw):
        try:
            tasks.append(Tau2Task.model_validate(item))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(
                f"{path}: task {i} ({item.get('id')!r}): {where}: {first['msg']}"
            ) from None
    if split is None:
        return tasks
    split_file = path.with_name(f"split_{path.stem}.json")
    if not split_file.is_file():
        raise ValueError(f"--split {split}: {split_file} not found (τ²'s splits sit beside tasks)")
    splits = _read_json(split_file)
    if not isinstance(splits, dict) or split not in splits:
        known = ", ".join(sorted(splits)) if isinstance(splits, dict) else "none"
        raise ValueError(f"--split {split}: no such split in {split_file}; known: {known}")
    wanted = set(map(str, splits[split]))
    return [t for t in tasks if t.id in wanted]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read ({exc})") from None


def tau2_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our gold actions ({name, arguments, requestor}) as τ²'s `Action`s, numbered as τ²'s
    own tasks number them (`<name>_<index>`)."""
    return [
        {
            "action_id": f"{a['name']}_{n}",
            "requestor": a.get("requestor", "assistant"),
            "name": a["name"],
            "arguments": a.get("arguments", {}),
            "info": None,
            "compare_args": None,
        }
        for n, a in enumerate(actions)
    ]


def as_task(task: Tau2Task, source: str) -> dict[str, Any]:
    """Our task record: the simulated user's instruction is τ²'s rendering of the scenario;
    the gold is the assistant's actions; the τ² criteria ride along under `tau2`."""
    criteria = task.criteria()
    init = (task.initial_state.initialization_actions or []) if task.initial_state else []
    if task.initial_state and task.initial_state.initialization_data:
        raise ValueError(
            f"{source}: task {task.id!r} sets initialization_data, which this domain cannot "
            "apply (only initialization_actions)"
        )
    actions = criteria.actions or []
    return {
        "user_id": None,
        "instruction": render_scenario(task.user_scenario),
        "persona": "",
        "actions": [
            {"name": a.name, "arguments": a.arguments}
            | ({"requestor": "user"} if a.requestor == "user" else {})
            for a in actions
        ],
        "outputs": [],
        "source": source,
        "tau2": {
            "id": task.id,
            "reward_basis": list(criteria.reward_basis),
            "actions": [a.model_dump() for a in actions],
            "communicate_info": criteria.communicate_info or [],
            "nl_assertions": criteria.nl_assertions or [],
            "env_assertions": [a.model_dump() for a in criteria.env_assertions or []],
            "setup": [c.model_dump() for c in init],
        },
    }
