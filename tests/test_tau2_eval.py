"""τ²'s tasks in `eval`: its rewards from each task's reward_basis, under our protocol and
τ²'s (`--protocol tau2`), with scripted roles that behave like capable models.

The user reads its scenario from the system prompt the way an LLM would (the reason for
the call first, "yes" to a confirmation, a stop token at the end) and never sees the gold;
the agent knows each task's gold actions, writes a sentence beside its calls, makes several
calls at once and sends numbers as the task has them; the NL judge answers in JSON.
"""

from __future__ import annotations

import json
import re

import pytest
from tau2_reference import tasks_file
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.environments.tau2 import load_tau2_tasks
from apigen_mt.testing.fake_openai import FakeOpenAIServer, Reply

AIRLINE = ["1", "3", "11"]  # DB + COMMUNICATE; 3 and 11 must tell the user a number


def _gold(domain: str, ids: list[str]) -> dict[str, dict]:
    """reason-for-call text -> the task's gold actions and what the agent must say."""
    out = {}
    for t in load_tau2_tasks(tasks_file(domain)):
        if t.id in ids:
            reason = t.user_scenario.instructions.reason_for_call.strip()
            criteria = t.criteria()
            out[reason] = {
                "actions": [a.model_dump() for a in criteria.actions or []],
                "say": criteria.communicate_info or [],
            }
    return out


class Roles:
    """The agent, the user and the NL judge, played from the raw requests."""

    def __init__(self, gold: dict[str, dict], *, forget_to_say=False, nl_met=True, loop=False):
        self.gold, self.forget_to_say, self.nl_met, self.loop = gold, forget_to_say, nl_met, loop
        self.requests: list[dict] = []

    def __call__(self, body: dict) -> Reply:
        self.requests.append(body)
        messages = body.get("messages", [])
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
        if body.get("response_format"):
            return self._judge(messages)
        if body.get("tools"):
            return self._agent(messages)
        return self._user(system, messages[1:])

    def _judge(self, messages) -> Reply:
        asked = messages[-1]["content"].split("expectedOutcomes:\n", 1)[-1]
        items = [line[2:] for line in asked.splitlines() if line.startswith("- ")]
        results = [
            {
                "expectedOutcome": a,
                "reasoning": "as the conversation shows",
                "metExpectation": self.nl_met,
            }
            for a in items
        ]
        return Reply(content=json.dumps({"results": results}))

    def _user(self, system: str, history: list[dict]) -> Reply:
        scenario = system.split("<scenario>", 1)[-1] if "<scenario>" in system else system
        reason = re.search(r"Reason for call:\n((?:\t\t.*\n?)+)", scenario)
        agent_said = [m["content"] or "" for m in history if m["role"] == "user"]
        if any("all done" in s.lower() for s in agent_said):
            return Reply(content="Thanks, that's everything. ###STOP###")
        if not any(m["role"] == "assistant" for m in history):
            opening = reason.group(1).replace("\t", "").strip() if reason else "Hello"
            return Reply(content=opening)
        return Reply(content="Yes, please go ahead.")

    def _agent(self, messages) -> Reply:
        users = [m["content"] for m in messages if m["role"] == "user"]
        opening = users[0].strip()[:80] if users else "-"
        plan = next((g for reason, g in self.gold.items() if reason.startswith(opening)), None)
        if plan is None:
            return Reply(content="Could you tell me more?")
        done = sum(m["role"] == "tool" for m in messages)
        actions = plan["actions"]
        if done < len(actions):
            batch = actions[done : done + 2]  # two calls at once where there are two
            return Reply(
                content="Let me take care of that.",
                tool_calls=[{"name": a["name"], "arguments": a["arguments"]} for a in batch],
            )
        if self.loop:
            return Reply(
                content="One more check.",
                tool_calls=[{"name": "calculate", "arguments": {"expression": "1 + 1"}}],
            )
        said = "" if self.forget_to_say else " ".join(plan["say"])
        return Reply(content=f"All done. {said}".strip())


def _eval(monkeypatch, tmp_path, roles, domain, ids, *extra) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / f"{domain}.json"
    chosen = [t for t in json.loads(tasks_file(domain).read_text()) if t["id"] in ids]
    path.write_text(json.dumps(chosen))
    monkeypatch.setenv("TAU2_DATA_DIR", str(tasks_file(domain).parents[3]))
    with FakeOpenAIServer(responder=roles) as server:
        for k, v in {"BASE_URL": server.base_url, "API_KEY": "t", "MODEL": "fake"}.items():
            monkeypatch.setenv(f"APIGEN_MT_{k}", v)
        result = CliRunner().invoke(
            app,
            ["eval", "--domain", f"tau2-{domain}", "--tasks", str(path), "--trials", "1",
             "--out", str(tmp_path / "out"), "--json", *extra],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


@pytest.mark.parametrize("protocol", ["apigen", "tau2"])
def test_a_capable_agent_scores_one_on_tau2_tasks(monkeypatch, tmp_path, protocol):
    roles = Roles(_gold("airline", AIRLINE))
    summary = _eval(monkeypatch, tmp_path, roles, "airline", AIRLINE, "--protocol", protocol)
    assert summary["pass_hat_k"] == [1.0]
    assert summary["reward_components"] == {"COMMUNICATE": 1.0, "DB": 1.0}
    assert [r["components"] for r in summary["trial_rewards"]] == [
        {"DB": 1.0, "COMMUNICATE": 1.0}
    ] * 3
    agent_calls = [r for r in roles.requests if r.get("tools")]
    first = agent_calls[0]["messages"]
    if protocol == "tau2":  # τ²'s agent prompt and greeting, τ²'s user guidelines
        assert first[0]["content"].startswith("<instructions>\nYou are a customer service agent")
        assert first[1] == {"role": "assistant", "content": "Hi! How can I help you today?"}
        users = [r for r in roles.requests if not r.get("tools") and not r.get("response_format")]
        assert "# User Simulation Guidelines" in users[0]["messages"][0]["content"]
        assert "<scenario>\nInstructions:\n\tDomain: airline" in users[0]["messages"][0]["content"]


def test_an_agent_that_does_not_say_the_required_fact_fails_communicate(monkeypatch, tmp_path):
    roles = Roles(_gold("airline", AIRLINE), forget_to_say=True)
    summary = _eval(monkeypatch, tmp_path, roles, "airline", AIRLINE)
    got = {r["task"].split("#")[-1]: r["components"] for r in summary["trial_rewards"]}
    assert got == {
        "1": {"DB": 1.0, "COMMUNICATE": 1.0},  # nothing to tell
        "3": {"DB": 1.0, "COMMUNICATE": 0.0},
        "11": {"DB": 1.0, "COMMUNICATE": 0.0},
    }
    assert summary["pass_hat_k"] == [pytest.approx(1 / 3)]
    assert summary["failures"] == {"COMMUNICATE 0": 2}


def test_nl_assertions_are_judged_and_recorded(monkeypatch, tmp_path):
    tasks = {t.id: t for t in load_tau2_tasks(tasks_file("retail"))}
    with_nl = [i for i in tasks if tasks[i].criteria().nl_assertions][:1]
    ids = [*with_nl, "0"]
    for met in (True, False):
        roles = Roles(_gold("retail", ids), nl_met=met)
        summary = _eval(monkeypatch, tmp_path / str(met), roles, "retail", ids)
        by_task = {r["task"].split("#")[-1]: r for r in summary["trial_rewards"]}
        assert by_task[with_nl[0]]["components"] == {"DB": 1.0, "NL_ASSERTION": float(met)}
        assert by_task["0"]["components"] == {"DB": 1.0, "NL_ASSERTION": 1.0}  # none to judge
        judged = [r for r in roles.requests if r.get("response_format")]
        assert len(judged) == 1 and judged[0]["temperature"] == 0


def test_an_episode_cut_off_by_the_step_limit_scores_zero(monkeypatch, tmp_path):
    roles = Roles(_gold("airline", ["1"]), loop=True)
    summary = _eval(
        monkeypatch, tmp_path, roles, "airline", ["1"], "--protocol", "tau2", "--max-steps", "20"
    )
    assert summary["pass_hat_k"] == [0.0]
    assert summary["failures"] == {"cut off (turn limit): 0": 1}
    assert summary["trial_rewards"][0]["components"]["DB"] == 1.0  # it did reach the state


def test_browse_shows_each_trials_tau2_components(monkeypatch, tmp_path):
    pytest.importorskip("datasette")
    import asyncio

    from apigen_mt.browse import make_datasette
    from apigen_mt.runs import STORE_FILE
    from apigen_mt.store import RunStore

    roles = Roles(_gold("airline", ["3"]), forget_to_say=True)
    summary = _eval(monkeypatch, tmp_path, roles, "airline", ["3"])
    path = tmp_path / "out" / STORE_FILE
    (trial,) = RunStore.read_only(path).run_trajectories(summary["eval_id"])
    page = asyncio.run(make_datasette(path).client.get(f"/apigen/trajectory/{trial['id']}"))
    assert page.status_code == 200
    html = page.text
    assert 'id="tau2-reward"' in html and "DB × COMMUNICATE" in html
    assert '<tr class="bad"><td>COMMUNICATE</td><td class="num">0.0</td></tr>' in html
    assert "Must tell:" in html and '<span class="bad">4</span>' in html
