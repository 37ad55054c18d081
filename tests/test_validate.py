"""`apigen-mt validate`: phase 1's deterministic stages as a linter for task files, on
τ-bench's own test tasks (no false rejections, its known policy exceptions) and on
hand-written tasks with each kind of defect."""

from __future__ import annotations

import json

import pytest
from test_retail_taubench import GOLD_POLICY_EXCEPTIONS
from typer.testing import CliRunner

from apigen_mt.cli import app

STAGES = ["format", "execution", "policy", "outputs"]


def _run(*args: str):
    result = CliRunner().invoke(app, ["validate", *args, "--json"])
    lines = result.stdout.strip().splitlines()
    return result.exit_code, [json.loads(line) for line in lines[:-1]], json.loads(lines[-1])


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_taubench_tasks_no_false_rejections_and_the_known_exceptions(
    domain, taubench_root, cache_dir
):
    folder = taubench_root / domain
    if not (folder / "tasks_test.json").is_file():
        pytest.skip(f"τ-bench {domain} data not found at {folder}")
    code, verdicts, summary = _run(
        "--domain", domain, "--tasks", str(folder / "tasks_test.json"),
        "--data-dir", str(folder), "--cache-dir", str(cache_dir),
    )  # fmt: skip
    expected = json.loads((folder / "expected_test.json").read_text())
    assert summary["tasks"] == len(expected) and code == 1  # some gold tasks are defective
    counts = [summary["stages"][s] for s in STAGES]
    assert counts == sorted(counts, reverse=True) and summary["passed"] == counts[-1]
    for v, e in zip(verdicts, expected, strict=True):
        clean = not any(s["observation"].startswith("Error") for s in e["steps"])
        if clean and e["changed_records"]:  # every gold call succeeds and something changes
            assert v["failed_stage"] not in ("format", "execution"), v
    if domain == "retail":
        at_policy = {v["index"] for v in verdicts if v["failed_stage"] == "policy"}
        assert at_policy <= set(GOLD_POLICY_EXCEPTIONS)
        for index in GOLD_POLICY_EXCEPTIONS:  # the rest already fail at execution
            assert verdicts[index]["failed_stage"] in ("execution", "policy"), index
        assert summary == {
            "tasks": 115,
            "passed": 77,
            "stages": {"format": 106, "execution": 89, "policy": 86, "outputs": 77},
        }


def test_each_kind_of_defect_is_named_at_its_stage(retail_env, tmp_path, cache_dir):
    pending, user = retail_env.master.execute(
        "SELECT order_id, user_id FROM orders WHERE status = 'pending' ORDER BY rowid LIMIT 1"
    ).fetchone()
    delivered = retail_env.master.execute(
        "SELECT order_id FROM orders WHERE status = 'delivered' ORDER BY rowid LIMIT 1"
    ).fetchone()[0]
    reason = "no longer needed"
    cancel = {"name": "cancel_pending_order", "arguments": {"order_id": pending, "reason": reason}}
    good = {"user_id": user, "instruction": "Cancel it.", "actions": [cancel], "outputs": []}
    with retail_env.sandbox() as sandbox:  # two amounts the cancellation returns, summed
        observation = json.loads(sandbox.call(**cancel).observation)
    amounts = [p["amount"] for p in observation["payment_history"]][:2]
    sum_ = " + ".join(str(a) for a in amounts)
    total = f"{sum(amounts):.2f}"
    tasks = [
        good,
        {**good, "outputs": ["1,234.50"]},
        {**good, "outputs": ["your order is now cancelled for good"]},
        {**good, "actions": [{"name": "cancel_everything", "arguments": {}}]},
        {
            **good,
            "actions": [
                {**cancel, "arguments": {"order_id": delivered, "reason": "no longer needed"}}
            ],
        },
        {**good, "outputs": ["cancelled", "9999.99"]},
        {**good, "outputs": [total], "computations": [{"output": total, "expression": sum_}]},
        {
            **good,
            "outputs": ["777"],
            "computations": [{"output": "777", "expression": "777.77 - 0.77"}],
        },
        {
            **good,
            "outputs": ["123456.78"],
            "computations": [{"output": "123456.78", "expression": sum_}],
        },
    ]
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(tasks))
    args = ["--domain", "retail", "--tasks", str(path), "--cache-dir", str(cache_dir)]
    code, verdicts, summary = _run(*args)
    stages = [v["failed_stage"] for v in verdicts]
    assert stages == [None, *["format"] * 3, "execution", "outputs", None, "outputs", "outputs"]
    assert "has a comma" in verdicts[1]["reasons"][0]
    assert "longer than 4 words" in verdicts[2]["reasons"][0]
    assert "unknown tool 'cancel_everything'" in verdicts[3]["reasons"][0]
    assert "non-pending order cannot be cancelled" in verdicts[4]["reasons"][0]
    assert verdicts[5]["reasons"] == [
        "outputs: output '9999.99' does not occur in what the calls return (if it is "
        "computed, e.g. a total, give its expression in computations)"
    ]  # "cancelled" occurs in the observation
    assert "numbers ['777.77', '0.77'] of '777.77 - 0.77' do not occur" in verdicts[7]["reasons"][0]
    assert f"gives {float(total):g}, not 123456.78" in verdicts[8]["reasons"][0]
    assert summary == {
        "tasks": 9,
        "passed": 2,
        "stages": {"format": 6, "execution": 5, "policy": 5, "outputs": 2},
    }
    assert code == 1
    path.write_text(json.dumps([{**good, "computations": [{"output": "x"}]}]))
    _, [malformed], _ = _run(*args)
    assert malformed["failed_stage"] == "format" and "computations" in malformed["reasons"][0]
    path.write_text(json.dumps([good]))
    assert _run(*args)[0] == 0
    path.write_text("not json")
    bad = CliRunner().invoke(app, ["validate", "--domain", "retail", "--tasks", str(path)])
    assert bad.exit_code == 2 and "error:" in bad.output


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("", "tasks.json: not valid JSON (line 1, column 1: Expecting value)"),
        ('{"user_id": "u"}', "tasks.json: expected a JSON list of tasks, got dict"),
        ('[{"instruction": "x"}]', "tasks.json: task 0: actions is missing"),
        (
            '[{"instruction": "x", "actions": []}, {"instruction": 5, "actions": [{"name": 3}]}]',
            "tasks.json: task 1: instruction must be a valid string (got 5); "
            "actions[0].name must be a valid string (got 3)",
        ),
    ],
)
def test_a_malformed_task_file_is_named_with_the_task_and_field(tmp_path, content, said):
    from typer.testing import CliRunner

    from apigen_mt.cli import app

    path = tmp_path / "tasks.json"
    path.write_text(content)
    result = CliRunner().invoke(app, ["validate", "--domain", "retail", "--tasks", str(path)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert f"{tmp_path}/{said}" in text and "pydantic" not in text and "errors.pydantic" not in text
