"""Exports as trainers read them, on conversations with capable models' habits: parallel
calls, text beside a call, a call cut off mid-JSON and retried, ids servers reuse.

- ShareGPT: LLaMA-Factory's alternation rule (a copy, here; its own converter runs in the
  `llamafactory` marked test) and how its FunctionFormatter parses a `function_call` value;
- OpenAI: rendered through `transformers`' `apply_chat_template` with a tool-calling
  template, the arguments once as JSON, never an escaped string;
- every format read back by `datasets.load_dataset`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from loopback import oracle_endpoint
from taubench_differential import ADDRESS
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.export import accepted_rows, export_run
from apigen_mt.export.formats import (
    TOOL_CALL_WORDS,
    openai_row,
    sharegpt_alternation_problem,
    sharegpt_row,
)
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.runs import open_run, store_at
from apigen_mt.store import RunStore
from apigen_mt.testing.scripted_roles import OracleRoles

TEMPLATE = (Path(__file__).parent / "data" / "tool_chat_template.jinja").read_text()
SAID = "Let me take care of that."


def _call(name, args, id_):
    return {"name": name, "args": args, "id": id_, "type": "tool_call"}


def habits_transcript() -> list:
    """One conversation with every habit at once."""
    order = {"order_id": "#W1"}
    return [
        HumanMessage("Hi, cancel my order #W1 and tell me my address."),
        AIMessage(  # text and two parallel calls, ids a server reused
            SAID,
            tool_calls=[
                _call("get_order_details", order, "call_0"),
                _call("get_user_details", {"user_id": "u"}, "call_1"),
            ],
        ),
        ToolMessage('{"order_id": "#W1", "status": "pending"}', tool_call_id="call_0"),
        ToolMessage('{"user_id": "u", "address": {"zip": "1"}}', tool_call_id="call_1"),
        AIMessage(  # cut off mid-JSON: an invalid call, answered with an error, then retried
            "",
            invalid_tool_calls=[
                {
                    "name": "cancel_pending_order",
                    "args": '{"order_id": "#W',
                    "id": "call_0",
                    "error": "x",
                }
            ],
        ),
        ToolMessage(
            "Error: the arguments of cancel_pending_order are not valid JSON", tool_call_id="call_0"
        ),
        AIMessage("Your zip is 1. Shall I cancel #W1?"),
        HumanMessage("Yes."),
        AIMessage(
            "",
            tool_calls=[
                _call("cancel_pending_order", {**order, "reason": "no longer needed"}, None)
            ],
        ),
        ToolMessage('{"order_id": "#W1", "status": "cancelled"}', tool_call_id="x"),
        AIMessage("Done: cancelled."),
        HumanMessage("###STOP###"),
    ]


def llamafactory_calls(value: str) -> tuple[str, list[dict]]:
    """How LLaMA-Factory's FunctionFormatter reads a function_call value: the JSON between
    its tool_call words (text outside them rendered before the calls), else the whole value;
    an object or a list of {name, arguments}."""
    match = re.search(
        f"{re.escape(TOOL_CALL_WORDS[0])}(.*?){re.escape(TOOL_CALL_WORDS[1])}", value, re.S
    )
    text, payload = (value.replace(match.group(0), ""), match.group(1)) if match else ("", value)
    calls = json.loads(payload)
    calls = calls if isinstance(calls, list) else [calls]
    assert all(set(c) == {"name", "arguments"} and isinstance(c["arguments"], dict) for c in calls)
    return text, calls


def test_sharegpt_keeps_alternation_with_every_habit():
    row = sharegpt_row(habits_transcript(), "policy", [])
    turns = row["conversations"]
    assert sharegpt_alternation_problem(turns) is None, turns
    assert [t["from"] for t in turns] == 2 * ["human", "function_call", "observation", "gpt"]
    text, calls = llamafactory_calls(turns[1]["value"])
    assert text == SAID and [c["name"] for c in calls] == ["get_order_details", "get_user_details"]
    results = json.loads(turns[2]["value"])  # parallel results: one JSON list, in call order
    assert [r["order_id"] if "order_id" in r else r["user_id"] for r in results] == ["#W1", "u"]
    single = json.loads(turns[5]["value"])  # a single call keeps APIGen-MT-5k's shape
    assert single["name"] == "cancel_pending_order" and single["arguments"]["order_id"] == "#W1"
    assert "not valid JSON" not in json.dumps(turns)  # the cut-off call and its error left out
    assert turns[3]["value"] == "Your zip is 1. Shall I cancel #W1?"


def test_sharegpt_rows_end_with_the_agent():
    transfer = [
        HumanMessage("I want a human."),
        AIMessage("", tool_calls=[_call("transfer_to_human_agents", {"summary": "s"}, "t")]),
        ToolMessage("Transfer successful", tool_call_id="t"),
    ]
    turns = sharegpt_row(transfer, "p", [])["conversations"]
    assert [t["from"] for t in turns] == ["human", "function_call"]
    assert sharegpt_alternation_problem(turns) is None
    assert (
        sharegpt_alternation_problem([{"from": "human", "value": ""}]) == "odd number of turns (1)"
    )
    assert "turn 1" in sharegpt_alternation_problem(
        [{"from": "human", "value": ""}, {"from": "observation", "value": ""}]
    )


def _tokenizer():
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("jinja2")
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    )
    tok.chat_template = TEMPLATE
    return tok


def assert_renders_arguments_once_as_json(row: dict, tok) -> int:
    text = tok.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
    calls = [c for m in row["messages"] for c in m.get("tool_calls", [])]
    for c in calls:
        arguments = json.dumps(c["function"]["arguments"], ensure_ascii=False)
        rendered = f'{{"name": "{c["function"]["name"]}", "arguments": {arguments}}}'
        assert rendered in text, (rendered, text[-800:])
    assert '\\"' not in text.split("</tools>")[-1]  # nothing double-encoded after the tools
    return len(calls)


def test_openai_rows_render_through_a_chat_template():
    tok = _tokenizer()
    row = openai_row(habits_transcript(), "policy", [])
    assert assert_renders_arguments_once_as_json(row, tok) == 3
    assistant = [m for m in row["messages"] if m["role"] == "assistant"]
    assert len(assistant[0]["tool_calls"]) == 2 and assistant[0]["content"] == SAID
    ids = [c["id"] for m in assistant for c in m.get("tool_calls", [])]
    tool_ids = [m["tool_call_id"] for m in row["messages"] if m["role"] == "tool"]
    assert tool_ids == ids and len(set(ids)) == 3  # paired, unique although the server reused
    # The OpenAI API's string form is what templates would double-encode:
    as_string = openai_row(habits_transcript(), "policy", [], arguments="string")
    text = tok.apply_chat_template(as_string["messages"], tokenize=False)
    assert '"arguments": "{\\"order_id\\"' in text


def cancel_two(records: dict) -> dict:
    """Blueprints with two writes where the user has two pending orders."""
    orders = records.get("orders", {})
    pending = [o for o, v in orders.items() if v.get("status") == "pending"][:2] or ["#W0"]
    return {
        "reasoning": "scripted",
        "user_id": records.get("user_id", ""),
        "instruction": f"You no longer need orders {' and '.join(pending)}; cancel them.",
        "actions": [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": o, "reason": "no longer needed"},
            }
            for o in pending
        ],
        "outputs": [],
    }


def cancel_and_move(records: dict) -> dict:
    """Two writes for every user with a pending order: cancel it, and change the address."""
    user = records.get("user_id", "")
    orders = records.get("orders", {})
    pending = [o for o, v in orders.items() if v.get("status") == "pending"][:1]
    move = {"name": "modify_user_address", "arguments": {"user_id": user, **ADDRESS}}
    cancels = [
        {"name": "cancel_pending_order", "arguments": {"order_id": o, "reason": "no longer needed"}}
        for o in pending
    ]
    return {
        "reasoning": "scripted",
        "user_id": user,
        "instruction": f"You moved to 1 Main St, Austin; cancel {' '.join(pending) or 'nothing'}.",
        "actions": [*cancels, move],
        "outputs": [],
    }


def capable_oracle() -> OracleRoles:
    """An agent that calls two gold actions at a time and speaks beside its calls."""
    return OracleRoles(propose=cancel_and_move, calls_per_message=2, text_with_calls=SAID)


@pytest.fixture(scope="module")
def capable_run(retail_env):
    """A scripted pipeline run with a capable agent's habits."""
    oracle = capable_oracle()
    store = RunStore()
    run_id, config, _ = open_run(
        store, PipelineConfig(domain="retail", n=14, best_of_n=1, recombine_rate=0)
    )
    ctx = PipelineContext(
        env=retail_env, store=store, models=oracle.chat_models(), config=config, run_id=run_id
    )
    asyncio.run(run_pipeline(ctx))
    return store, run_id


def test_a_capable_agents_run_exports_rows_trainers_accept(capable_run, tmp_path, monkeypatch):
    store, run_id = capable_run
    sharegpt = accepted_rows(store, run_id, "sharegpt")
    assert len(sharegpt) >= 4
    parallel = 0
    for row in sharegpt:
        assert sharegpt_alternation_problem(row["conversations"]) is None
        for turn in row["conversations"]:
            if turn["from"] == "function_call":
                text, calls = llamafactory_calls(turn["value"])
                parallel += len(calls) > 1
                assert text == SAID
    assert parallel >= 2
    tok = _tokenizer()
    assert (
        sum(
            assert_renders_arguments_once_as_json(r, tok)
            for r in accepted_rows(store, run_id, "openai")
        )
        > 0
    )
    _load_every_format(store, run_id, tmp_path, monkeypatch)


def _load_every_format(store, run_id, dest, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for fmt in ("sharegpt", "openai", "hf"):
        result = export_run(store, run_id, fmt, dest / fmt)
        path = result["path"]
        loaded = (
            datasets.load_dataset(path, split="train")
            if fmt == "hf"
            else datasets.load_dataset("json", data_files=path, split="train")
        )
        assert loaded.num_rows == result["rows"] > 0, fmt


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_loopback_run_with_parallel_calls_exports_through_the_cli(monkeypatch, tmp_path, cache_dir):
    """The real ChatOpenAI path: the endpoint answers with text and two calls at once (ids
    call_0, call_1 in every message, as some servers do)."""
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    with oracle_endpoint(monkeypatch, oracle=capable_oracle()):
        runner = CliRunner()
        result = runner.invoke(
            app,
            [
                "generate",
                "--domain",
                "retail",
                "--n",
                "12",
                "--out",
                str(tmp_path),
                "--best-of-n",
                "1",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.stdout.strip().splitlines()[-1])["run_id"]
    for fmt, arguments in (("sharegpt", "object"), ("openai", "object"), ("openai", "string")):
        out = runner.invoke(
            app,
            [
                "export",
                run_id,
                "--out",
                str(tmp_path),
                "--format",
                fmt,
                "--arguments",
                arguments,
                "--dest",
                str(tmp_path / f"{fmt}-{arguments}"),
            ],
        )
        assert out.exit_code == 0, out.output
    rows = json.loads(next((tmp_path / "sharegpt-object").glob("*.json")).read_text())
    assert rows and all(sharegpt_alternation_problem(r["conversations"]) is None for r in rows)
    assert any(
        json.loads(t["value"].split("<tool_call>")[-1].split("</tool_call>")[0]).__class__ is list
        for r in rows
        for t in r["conversations"]
        if t["from"] == "function_call"
    )
    lines = (tmp_path / "openai-string").glob("*.jsonl")
    for line in next(lines).read_text().splitlines():
        for m in json.loads(line)["messages"]:
            for c in m.get("tool_calls", []):
                assert isinstance(json.loads(c["function"]["arguments"]), dict)
    bad = runner.invoke(app, ["export", run_id, "--out", str(tmp_path), "--arguments", "yaml"])
    assert bad.exit_code == 2 and "object or string" in bad.output
    assert store_at(tmp_path).run(run_id)["status"] == "finished"


def _llamafactory_python(tmp_root: Path) -> str:
    """A Python with LLaMA-Factory: $APIGEN_MT_LLAMAFACTORY_PYTHON, this one, or a venv
    made once under the cache (pip install llamafactory: torch, CPU use only)."""
    given = os.environ.get("APIGEN_MT_LLAMAFACTORY_PYTHON")
    if given:
        return given
    if importlib.util.find_spec("llamafactory"):
        return sys.executable
    from venvs import cached_venv

    return cached_venv("llamafactory-venv", "llamafactory")


@pytest.mark.llamafactory
def test_every_sharegpt_row_passes_llamafactorys_own_converter(capable_run, tmp_path):
    store, run_id = capable_run
    rows = accepted_rows(store, run_id, "sharegpt")
    rows.append({**sharegpt_row(habits_transcript(), "policy", []), "id": "habits"})
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    check = Path(__file__).parent / "data" / "llamafactory_check.py"
    done = subprocess.run(
        [_llamafactory_python(tmp_path), str(check), str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["broken"] == [] and result["rows"] == len(rows)
    expected = sum(
        len(llamafactory_calls(t["value"])[1])
        for r in rows
        for t in r["conversations"]
        if t["from"] == "function_call"
    )
    assert result["rendered_calls"] == expected
