"""τ²-bench's own code as an oracle, run in τ²'s venv (Python 3.12), spoken to over pipes.

Started by tests/tau2_reference.py; reads one JSON request per line on stdin, writes one JSON
answer per line on stdout. Requests:

    {"op": "reset", "domain": "retail"}              a fresh environment on τ²'s db.json
    {"op": "call", "name": ..., "arguments": {...}}  -> {"content", "error", "raised"}
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


def fresh(domain: str):
    """The domain's environment (built once) on a new copy of its database (db.json read
    once): the tools read nothing else, and building an environment costs 10x a copy."""
    if domain not in _pristine:
        environment = registry.get_env_constructor(domain)()
        _pristine[domain] = (environment, environment.tools.db.model_dump())
    environment, dump = _pristine[domain]
    environment.tools.db = type(environment.tools.db).model_validate(dump)
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
            }
        )
    return out


for line in sys.stdin:
    request = json.loads(line)
    op = request["op"]
    if op == "reset":
        env = fresh(request["domain"])
        answer = {"ok": True}
    elif op == "call":
        answer = call(env, request["name"], request["arguments"])
    elif op == "hash":
        answer = {"hash": env.get_db_hash(), "user_hash": env.get_user_db_hash()}
    elif op == "gold":
        answer = {"tasks": gold(request["domain"])}
    else:
        answer = {"problem": f"unknown op {op!r}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
