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
    else:
        answer = {"problem": f"unknown op {op!r}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
