"""The docs are what the code does: graph diagrams, langgraph.json, the README front door,
and every runnable snippet of docs/."""

import json
from pathlib import Path

import pytest

from apigen_mt.graphs.diagrams import diagrams

DOC = Path(__file__).resolve().parents[1] / "docs" / "graphs.md"


def test_graph_diagrams_are_current(retail_env):
    assert DOC.read_text() == diagrams(retail_env), (
        "docs/graphs.md is stale: python -m apigen_mt.graphs.diagrams > docs/graphs.md"
    )


def test_langgraph_json_serves_every_graph_of_the_method():
    """Each phase graph in graphs/ has its served counterpart (apigen_mt.studio), whose
    context is plain JSON; tests/test_studio.py runs them all from the server."""
    import importlib
    import json

    spec = json.loads((DOC.parents[1] / "langgraph.json").read_text())["graphs"]
    graphs_dir = DOC.parents[1] / "graphs"
    factories = {
        line.split("(")[0].removeprefix("def build_").removesuffix("_graph")
        for p in graphs_dir.glob("*.py")
        for line in p.read_text().splitlines()
        if line.startswith("def build_") and line.split("(")[0].endswith("_graph")
    }
    assert set(spec) == factories
    for name, target in spec.items():
        module, attr = target.split(":")
        graph = getattr(importlib.import_module(module), attr)
        assert graph.name == name and graph.get_graph().nodes  # a compiled graph, no factory
        assert graph.context_schema.__name__ == "RunOptions"


def test_the_world_example_runs_as_written(tmp_path, cache_dir):
    """docs/worlds.md's example, block by block as a reader copies it."""
    import re
    import subprocess
    import sys

    from typer.testing import CliRunner

    from apigen_mt.cli import app

    page = (DOC.parent / "worlds.md").read_text(encoding="utf-8")
    section = page.split("## The reference", 1)[0]
    blocks = re.findall(r"```\w+\n(?:# file: |<!-- file: )(\S+?)(?: -->)?\n(.*?)```", section, re.S)
    files = {name for name, _ in blocks}
    assert files == {
        "mylibrary/make_db.py", "mylibrary/tools.py", "mylibrary/world.toml", "mylibrary/policy.md"
    }  # fmt: skip
    for name, body in blocks:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body, encoding="utf-8")
    world = tmp_path / "mylibrary"
    subprocess.run([sys.executable, "make_db.py"], cwd=world, check=True)
    shown = CliRunner().invoke(
        app, ["domains", "show", str(world), "--json", "--cache-dir", str(cache_dir)]
    )
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.stdout)
    assert {t["name"]: t["writes"] for t in info["tools"]} == {
        "find_member": False, "list_loans": False, "extend_loan": True
    }  # fmt: skip
    tasks = tmp_path / "tasks.json"
    actions = [
        {"name": "find_member", "arguments": {"email": "ada@example.org"}},
        {"name": "extend_loan", "arguments": {"loan_id": 1, "days": 7}},
    ]
    task = {"user_id": "1", "instruction": "Extend my loan by a week.", "actions": actions}
    tasks.write_text(json.dumps([task]))
    replayed = CliRunner().invoke(
        app,
        ["replay", "--domain", str(world), "--tasks", str(tasks), "--cache-dir", str(cache_dir)],
    )
    assert replayed.exit_code == 0, replayed.output
    line = json.loads(replayed.stdout.splitlines()[0])
    assert line["observations"][1] == '{"LoanId": 1, "DueDate": "2026-12-17"}'


def test_the_readme_is_a_front_door_with_the_two_commands():
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    ci = (DOC.parents[1] / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci in readme  # .ci/run runs the README's test command, verbatim
    assert 'pip install -e ".[local]" && apigen-mt generate --domain retail --n 2' in readme
    for page in ("worlds", "generating", "evaluation", "training", "architecture"):
        assert f"(docs/{page}.md" in readme


def _snippets():
    """Every ```python block of docs/ a reader would run: not the world example's files
    (the test above writes and runs those) and not those marked `<!-- not run: why -->`."""
    import re

    for page in sorted(DOC.parent.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"(<!-- not run: [^>]*-->\n)?```python\n(.*?)```", text, re.S):
            code = match.group(2)
            if match.group(1) or code.startswith("# file: "):
                continue
            yield pytest.param(code, id=f"{page.stem}:{text[: match.start()].count(chr(10)) + 1}")


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize("code", list(_snippets()))
def test_the_docs_python_snippets_run(code, tmp_path, monkeypatch, cache_dir):
    """As a reader runs them, against a loopback endpoint that plays every role."""
    import ast
    import asyncio

    from loopback import oracle_endpoint

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    with oracle_endpoint(monkeypatch):
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # notebook-style `await` at the top
        compiled = compile(code, "<docs snippet>", "exec", flags=flags)
        result = eval(compiled, {"__name__": "__docs__"})
        if asyncio.iscoroutine(result):
            asyncio.run(result)
