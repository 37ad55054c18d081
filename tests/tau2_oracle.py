"""τ²-bench's own code as an oracle, run in τ²'s venv (Python 3.12), spoken to over pipes.

Started by tests/tau2_reference.py; reads one JSON request per line on stdin, writes one JSON
answer per line on stdout. Requests:

    {"op": "reset", "domain": "retail"}              a fresh environment on τ²'s db.json
    {"op": "call", "name": ..., "arguments": {...}, "requestor": "assistant"|"user"}
                                                     -> {"content", "error", "raised"}
    {"op": "task", "domain": ..., "task_index": i}   a fresh environment in a task's
                                                     initial state (its initialization)
    {"op": "hash"}                                   -> {"hash", "user_hash"}
    {"op": "gold", "domain": "retail"}               -> every task of tasks.json: the gold
        actions after the task's initial state: {"id", "observations", "hash", "user_hash"}
    {"op": "evaluate", "domain": ..., "task": {τ² task}, "messages": [τ² messages]}
        -> τ²'s EnvironmentEvaluator on the trajectory (its strict replay checks every
        recorded result of a state-changing call): {"reward", "breakdown", "db_match",
        "env_assertions", "hash", "user_hash"} (the hashes of the state its replay
        reached), or {"problem"} where τ² raised

`raised` names the exception's type when τ²'s tool raised, so the test can tell τ²'s own
refusals (ValueError, with texts to match) from Python's (TypeError...) on odd arguments.
"""

import json
import logging
import sys

from loguru import logger

logger.remove()
logging.disable(logging.CRITICAL)

from tau2.environment.environment import Environment  # noqa: E402
from tau2.registry import registry  # noqa: E402

_pristine: dict = {}
env = None


class _BillIds:
    """τ²'s telecom names a new draft bill `B` + uuid4().hex[:8]; here uuid4 gives the
    count of bills instead, as our domain does, so both sides' states can be compared."""

    def uuid4(self):
        import uuid

        return uuid.UUID(int=(len(env.tools.db.bills) + 1) << 96)


def fresh(domain: str):
    """The domain's environment (built once) on a new copy of its databases (read once):
    the tools read nothing else, and building an environment costs 10x a copy."""
    global env
    if domain not in _pristine:
        environment = registry.get_env_constructor(domain)()
        user = environment.user_tools.db.model_dump() if environment.user_tools else None
        _pristine[domain] = (environment, environment.tools.db.model_dump(), user)
        if domain == "telecom":
            import tau2.domains.telecom.tools as telecom_tools
            from tau2.domains.telecom.user_tools import TelecomUserTools

            telecom_tools.uuid = _BillIds()
            _pristine["vpn"] = TelecomUserTools.default_vpn_details.model_copy(deep=True)
    environment, dump, user = _pristine[domain]
    if domain == "telecom":  # τ²'s shared VPN profile, which break_vpn degrades in place,
        # as a fresh τ² process has it
        type(environment.user_tools).default_vpn_details = _pristine["vpn"].model_copy(deep=True)
    environment.tools.db = type(environment.tools.db).model_validate(dump)
    if user is not None:
        environment.user_tools.db = type(environment.user_tools.db).model_validate(user)
    env = environment
    return environment


def call(environment, name: str, arguments: dict, requestor: str = "assistant") -> dict:
    # Environment.get_response, with the exception's type kept
    raised = None
    try:
        resp = environment.make_tool_call(name, requestor=requestor, **arguments)
        environment.sync_tools()
    except Exception as exc:  # what τ² does with any tool exception
        resp, raised = f"Error: {exc}", type(exc).__name__
    return {"content": Environment.to_json_str(resp), "error": raised is not None, "raised": raised}


def gold(domain: str) -> list[dict]:
    out = []
    for task in registry.get_tasks_loader(domain)(None):
        environment = fresh(domain)
        init = task.initial_state
        if init is not None:
            environment.set_state(init.initialization_data, init.initialization_actions, [])
        observations = [
            call(environment, a.name, a.arguments, a.requestor)
            for a in (task.evaluation_criteria.actions or [])
        ]
        out.append(
            {
                "id": task.id,
                "observations": observations,
                "hash": environment.get_db_hash(),
                "user_hash": environment.get_user_db_hash(),
                # each env assertion as τ²'s evaluator runs it, after the gold actions
                "assertions": [
                    environment.run_env_assertion(a, raise_assertion_error=False)
                    for a in (task.evaluation_criteria.env_assertions or [])
                ],
            }
        )
    return out


def evaluate(domain: str, task: dict, messages: list[dict]) -> dict:
    from tau2.data_model.message import AssistantMessage, ToolMessage, UserMessage
    from tau2.data_model.tasks import Task
    from tau2.evaluator.evaluator_env import EnvironmentEvaluator

    kinds = {"assistant": AssistantMessage, "user": UserMessage, "tool": ToolMessage}
    trajectory = [kinds[m["role"]].model_validate(m) for m in messages]

    built = []

    def constructor(**kwargs):  # a new environment each time (the predicted, the gold)
        global env
        fresh(domain)  # our patches: bill ids by count, a fresh VPN profile
        env = registry.get_env_constructor(domain)(**kwargs)
        built.append(env)
        return env

    try:
        info = EnvironmentEvaluator.calculate_reward(
            constructor, Task.model_validate(task), trajectory
        )
    except Exception as exc:
        return {"problem": f"{type(exc).__name__}: {exc}"}
    return {
        "reward": info.reward,
        "breakdown": {getattr(k, "value", k): v for k, v in (info.reward_breakdown or {}).items()},
        "db_match": info.db_check.db_match if info.db_check else None,
        "env_assertions": [c.met for c in info.env_assertions or []],
        # the state τ²'s replay of the trajectory reached, by τ²'s two hashes
        "hash": built[0].get_db_hash(),
        "user_hash": built[0].get_user_db_hash(),
    }


for line in sys.stdin:
    request = json.loads(line)
    op = request["op"]
    if op == "reset":
        env = fresh(request["domain"])
        answer = {"ok": True}
    elif op == "task":  # a fresh environment in one task's initial state
        env = fresh(request["domain"])
        task = registry.get_tasks_loader(request["domain"])(None)[request["task_index"]]
        init = task.initial_state
        if init is not None:
            env.set_state(init.initialization_data, init.initialization_actions, [])
        answer = {"ok": True, "id": task.id}
    elif op == "call":
        answer = call(
            env, request["name"], request["arguments"], request.get("requestor", "assistant")
        )
    elif op == "hash":
        answer = {"hash": env.get_db_hash(), "user_hash": env.get_user_db_hash()}
    elif op == "gold":
        answer = {"tasks": gold(request["domain"])}
    elif op == "evaluate":
        answer = evaluate(request["domain"], request["task"], request["messages"])
    else:
        answer = {"problem": f"unknown op {op!r}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
