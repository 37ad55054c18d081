"""`apigen-mt serve`: an episode over MCP, driven by the official SDK's client over stdio
and streamable HTTP; the simulated user is the human role's endpoint (a loopback server
answering like a chat model: plain text, a stop token when the agent is finished)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import AsyncExitStack

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from apigen_mt.environments.taubench import load_tasks
from apigen_mt.testing.fake_openai import FakeOpenAIServer, Reply


def user_reply(body) -> Reply:
    last = body["messages"][-1]["content"] if body.get("messages") else ""
    if "anything else" in str(last).lower():
        return Reply(content="No, that's all. ###STOP###")
    return Reply(content="Hi, I need help with my orders.")


@pytest.fixture()
def human(monkeypatch):
    with FakeOpenAIServer(responder=user_reply) as server:
        yield {
            "APIGEN_MT_HUMAN_BASE_URL": server.base_url,
            "APIGEN_MT_HUMAN_API_KEY": "test",
            "APIGEN_MT_NL_JUDGE_BASE_URL": server.base_url,
            "APIGEN_MT_NL_JUDGE_API_KEY": "test",
        }


def _serve_args(retail_dir, *extra):
    return [
        "-m", "apigen_mt.cli", "serve", "--domain", "retail",
        "--tasks", str(retail_dir / "tasks_test.json"), "--data-dir", str(retail_dir), *extra,
    ]  # fmt: skip


def _env(human, cache_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "APIGEN_MT_"))}
    return {**env, **human, "APIGEN_MT_CACHE_DIR": str(cache_dir)}


async def _episode(session: ClientSession, task) -> dict:
    """The gold episode of task 0 through the server's tools."""
    listed = {t.name: t for t in (await session.list_tools()).tools}
    assert {"reset", "send_message", "verify", "cancel_pending_order"} <= set(listed)
    assert listed["cancel_pending_order"].annotations.read_only_hint is False
    assert listed["get_user_details"].annotations.read_only_hint is True
    # the domain's exact schema, not one read off a signature
    assert listed["get_user_details"].input_schema["required"] == ["user_id"]
    opening = await session.call_tool("reset", {"task_index": 0})
    assert opening.content[0].text == "Hi, I need help with my orders."
    for action in task.actions:
        result = await session.call_tool(action.name, action.arguments)
        assert not result.is_error, result.content[0].text
    bad = await session.call_tool("get_order_details", {"order_id": "#W0000000"})
    assert bad.is_error and "not found" in bad.content[0].text.lower()
    reply = await session.call_tool("send_message", {"text": "Done. Anything else?"})
    assert reply.content[0].text.endswith("###STOP###")
    late = await session.call_tool("get_user_details", {"user_id": "x"})
    assert late.is_error and "ended" in late.content[0].text
    scored = await session.call_tool("verify", {})
    return scored.structured_content or json.loads(scored.content[0].text)


@pytest.mark.allow_hosts(["127.0.0.1"])
async def test_an_episode_over_stdio(human, cache_dir, taubench_retail_dir):
    task = load_tasks(taubench_retail_dir / "tasks_test.json")[0]
    params = StdioServerParameters(
        command=sys.executable, args=_serve_args(taubench_retail_dir),
        env=_env(human, cache_dir),
    )  # fmt: skip
    async with AsyncExitStack() as stack:
        read, write = await stack.enter_async_context(stdio_client(params))
        session = await stack.enter_async_context(ClientSession(read, write))
        await session.initialize()
        scored = await _episode(session, task)
        assert scored["reward"] == 1.0 and scored["done"] and scored["ended_by"] == "user_stop"
        assert scored["components"]["state_matches"]
        wrong = await session.call_tool("reset", {"task_index": 10_000})
        assert wrong.is_error and "out of range" in wrong.content[0].text
        # a second episode on the same server starts from the task's initial state
        await session.call_tool("reset", {"task_index": 0})
        again = await session.call_tool("verify", {})
        data = again.structured_content or json.loads(again.content[0].text)
        assert data["reward"] == 0.0 and not data["done"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.allow_hosts(["127.0.0.1"])
async def test_an_episode_over_streamable_http(human, cache_dir, taubench_retail_dir, tmp_path):
    from mcp.client.streamable_http import streamable_http_client

    task = load_tasks(taubench_retail_dir / "tasks_test.json")[0]
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, *_serve_args(taubench_retail_dir, "--transport", "http",
                                      "--port", str(port))],
        env=_env(human, cache_dir), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "the http server did not start"
                time.sleep(0.1)
        async with (
            streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            await session.initialize()
            scored = await _episode(session, task)
        assert scored["reward"] == 1.0 and scored["components"]["missing_outputs"] == []
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    assert "127.0.0.1" in (tmp_path / "serve.log").read_text()


def test_serve_refuses_bad_options_in_words(cli_env, taubench_retail_dir, tmp_path):
    from typer.testing import CliRunner

    from apigen_mt.cli import app

    run = CliRunner().invoke(app, _serve_args(taubench_retail_dir, "--transport", "pigeon")[2:])
    assert run.exit_code == 2 and "stdio or http" in run.output
    run = CliRunner().invoke(
        app, ["serve", "--domain", "retail", "--tasks", "nope", "--out", str(tmp_path)]
    )
    assert run.exit_code == 2 and "neither a task file nor a generation run" in run.output
