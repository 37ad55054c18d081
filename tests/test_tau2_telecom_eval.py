"""`eval --domain tau2-telecom`: dual-control dialogues scored by τ²'s rewards (ENV_ASSERTION
on the final state of both sides, ACTION over the agent's and the user's calls).

Scripted roles behind a loopback endpoint, as capable models behave: the agent asks the
customer to act on their phone where the fix is theirs (naming the tool and its arguments,
as a support agent reads out a setting), acts on the carrier's records itself, and several
calls come with a sentence; the customer opens with their reason for calling, runs on
their phone what the agent asks, reports what it shows, and leaves when nothing is left.
An agent that never asks the customer to act leaves the phone broken: 0.
"""

from __future__ import annotations

import json
import re

import pytest
from tau2_reference import tasks_file
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.runs import STORE_FILE
from apigen_mt.store import RunStore
from apigen_mt.testing.fake_openai import FakeOpenAIServer, Reply

PICKED = [0, 1, 38, 36]  # data off + refuel; airplane + data; overdue bill paid; transfer
ASK = re.compile(r"please run `(\w+)` with (\{.*\}) on your phone", re.I)

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


class Roles:
    """The agent (the carrier's tools bound) and the customer (the phone's tools bound)."""

    def __init__(self, task: dict, *, asks_the_user: bool = True):
        self.actions = task["evaluation_criteria"]["actions"]
        self.asks_the_user = asks_the_user
        self.requests: list[dict] = []

    def __call__(self, body: dict) -> Reply:
        self.requests.append(body)
        messages = body.get("messages", [])
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
        if "<main_policy>" in system:
            return self._agent(messages)
        return self._user(system, messages[1:])

    def _agent(self, messages) -> Reply:
        plan = [a for a in self.actions if self.asks_the_user or a["requestor"] == "assistant"]
        acted = sum(
            1
            for m in messages
            if m["role"] == "assistant" and (m.get("tool_calls") or ASK.search(m["content"] or ""))
        )
        if acted < len(plan):
            action = plan[acted]
            if action["requestor"] == "user":
                args = json.dumps(action["arguments"])
                return Reply(content=f"Thanks. Please run `{action['name']}` with {args} on "
                                     "your phone and tell me what it shows.")  # fmt: skip
            return Reply(
                content="Let me fix that on our side.",
                tool_calls=[{"name": action["name"], "arguments": action["arguments"]}],
            )
        return Reply(content="Everything is set on our side. Is there anything else?")

    def _user(self, system: str, history: list[dict]) -> Reply:
        last = history[-1] if history else {"role": "user", "content": ""}
        if last["role"] == "tool":
            return Reply(content=f"I did it. My phone says: {last['content'].splitlines()[0]}")
        text = last.get("content") or ""
        if "anything else" in text.lower():
            return Reply(content="No, that's all, thanks. ###STOP###")
        asked = ASK.search(text)
        if asked:
            return Reply(content="", tool_calls=[
                {"name": asked.group(1), "arguments": json.loads(asked.group(2))}
            ])  # fmt: skip
        reason = re.search(r"Reason for call:\n\t\t(.*)", system) or re.search(
            r"Reason for call:\s*(.*)", system
        )
        return Reply(content=reason.group(1).split(".")[0] + "." if reason else "Hello.")


def _eval(monkeypatch, tmp_path, index: int, protocol: str, **roles) -> tuple[dict, Roles]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(tmp_path / "cache"))
    task = json.loads(tasks_file("telecom").read_text())[index]
    path = tmp_path / "telecom.json"
    path.write_text(json.dumps([task]))
    monkeypatch.setenv("TAU2_DATA_DIR", str(tasks_file("telecom").parents[3]))
    responder = Roles(task, **roles)
    with FakeOpenAIServer(responder=responder) as server:
        for k, v in {"BASE_URL": server.base_url, "API_KEY": "t", "MODEL": "fake"}.items():
            monkeypatch.setenv(f"APIGEN_MT_{k}", v)
        result = CliRunner().invoke(
            app,
            ["eval", "--domain", "tau2-telecom", "--tasks", str(path), "--trials", "1",
             "--out", str(tmp_path / "out"), "--protocol", protocol, "--json"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1]), responder


@pytest.mark.parametrize("protocol", ["apigen", "tau2"])
def test_an_agent_that_guides_the_user_scores_one(monkeypatch, tmp_path, protocol):
    for index in PICKED:
        summary, roles = _eval(monkeypatch, tmp_path / f"{protocol}{index}", index, protocol)
        assert summary["pass_hat_k"] == [1.0], (index, summary["failures"])
        components = summary["trial_rewards"][0]["components"]
        assert components["ENV_ASSERTION"] == 1.0 and components.get("ACTION", 1.0) == 1.0
        agent = [r for r in roles.requests if "<main_policy>" in r["messages"][0]["content"]]
        user = [r for r in roles.requests if r not in agent]
        agent_tools = {t["function"]["name"] for t in agent[0]["tools"]}
        user_tools = {t["function"]["name"] for t in user[0]["tools"]}
        assert "toggle_airplane_mode" in user_tools and "toggle_airplane_mode" not in agent_tools
        # the agent never sees the user's tool calls or what the phone answered
        for request in agent:
            for m in request["messages"]:
                assert not (m["role"] == "tool" and "Status Bar" in m["content"]), m
        if protocol == "tau2":
            assert "tools" in user[0]["messages"][0]["content"].lower()  # τ²'s tool guidelines


def test_an_agent_that_never_asks_the_user_to_act_scores_zero(monkeypatch, tmp_path):
    summary, _ = _eval(monkeypatch, tmp_path, 1, "tau2", asks_the_user=False)
    assert summary["pass_hat_k"] == [0.0]
    assert summary["trial_rewards"][0]["components"] == {"ENV_ASSERTION": 0.0}
    assert any("ENV_ASSERTION 0" in reason for reason in summary["failures"])


def test_the_transcript_keeps_the_users_actions_on_the_users_side(monkeypatch, tmp_path):
    summary, _ = _eval(monkeypatch, tmp_path, 38, "apigen")
    (trial,) = RunStore.read_only(tmp_path / "out" / STORE_FILE).run_trajectories(
        summary["eval_id"]
    )
    messages = RunStore.read_only(tmp_path / "out" / STORE_FILE).transcript(trial["id"])
    users = [m for m in messages if m.additional_kwargs.get("side") == "user"]
    calls = [c["name"] for m in users if m.type == "ai" for c in m.tool_calls]
    assert calls == ["toggle_airplane_mode", "make_payment", "reboot_device"]
    assert trial["reward_info"]["actions"] == [] or all(
        a["met"] for a in trial["reward_info"]["actions"]
    )


def test_exports_keep_the_users_actions_out_of_the_agents_turns(monkeypatch, tmp_path):
    from apigen_mt.export import accepted_rows
    from apigen_mt.export.formats import sharegpt_alternation_problem

    summary, _ = _eval(monkeypatch, tmp_path, 38, "tau2")
    store = RunStore.read_only(tmp_path / "out" / STORE_FILE)
    (row,) = accepted_rows(store, summary["eval_id"], "openai")
    agent_calls = [c["function"]["name"] for m in row["messages"] for c in m.get("tool_calls", [])]
    assert agent_calls == ["send_payment_request", "resume_line"]  # the agent's, only
    assert {t["function"]["name"] for t in row["tools"]} >= {"refuel_data"}
    assert "toggle_airplane_mode" not in {t["function"]["name"] for t in row["tools"]}
    done = [(a["message_index"], [c["name"] for c in a["calls"]]) for a in row["user_actions"]]
    assert [names for _, names in done] == [["toggle_airplane_mode"], ["make_payment"],
                                            ["reboot_device"]]  # fmt: skip
    for index, _ in done:  # each points at the user's words that followed the actions
        assert row["messages"][index]["role"] == "user"
        assert row["messages"][index]["content"].startswith("I did it. My phone says:")
    assert all(c["result"] for a in row["user_actions"] for c in a["calls"])
    (share,) = accepted_rows(store, summary["eval_id"], "sharegpt")
    assert sharegpt_alternation_problem(share["conversations"]) is None
    assert [share["conversations"][a["turn_index"]]["from"] for a in share["user_actions"]] == [
        "human"
    ] * 3
    function_calls = [t["value"] for t in share["conversations"] if t["from"] == "function_call"]
    assert not any("make_payment" in v or "reboot_device" in v for v in function_calls)


def test_browse_shows_the_users_tool_calls_on_the_users_side(monkeypatch, tmp_path):
    pytest.importorskip("datasette")
    import asyncio

    from apigen_mt.browse import make_datasette

    summary, _ = _eval(monkeypatch, tmp_path, 1, "apigen")
    path = tmp_path / "out" / STORE_FILE
    (trial,) = RunStore.read_only(path).run_trajectories(summary["eval_id"])
    page = asyncio.run(make_datasette(path).client.get(f"/apigen/trajectory/{trial['id']}"))
    assert page.status_code == 200
    html = page.text
    assert html.count('class="msg human user-action"') == 2  # airplane mode, mobile data
    assert '<div class="call user-tool-call"><code>toggle_airplane_mode</code>' in html
    assert "what the user&#39;s toggle_data showed them" in html or (
        "what the user's toggle_data showed them" in html
    )
    assert '<div class="call tool-call"><code>toggle_data</code>' not in html  # not the agent's
