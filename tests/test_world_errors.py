"""A world folder with something wrong in it gets a clear error that names the file (and
the line where there is one) — never a traceback — and the user's database is never
modified; `domains init` writes a world a user can confirm and run."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner
from world_helpers import digest, world_copy

from apigen_mt.cli import app


@pytest.fixture()
def world(tmp_path) -> Path:
    return world_copy(tmp_path)


def show(folder: Path, cache_dir: Path):
    result = CliRunner().invoke(
        app, ["domains", "show", str(folder), "--cache-dir", str(cache_dir)]
    )
    return result.exit_code, " ".join(result.output.split())


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_unknown_world_toml_key_names_the_file_and_line(world, cache_dir):
    (world / "world.toml").write_text(
        (world / "world.toml").read_text() + 'user_tabel = "Customer"\n', encoding="utf-8"
    )
    code, out = show(world, cache_dir)
    assert code == 2 and f"{world / 'world.toml'}:7: unknown key 'user_tabel'" in out
    assert "Traceback" not in out


def test_broken_toml_names_the_file(world, cache_dir):
    (world / "world.toml").write_text('name = "acme\n', encoding="utf-8")
    code, out = show(world, cache_dir)
    assert code == 2 and "world.toml: not valid TOML" in out and "line 1" in out


def test_a_missing_or_unreadable_database(world, cache_dir):
    _edit(world / "world.toml", 'database = "app.sqlite"', 'database = "nope.sqlite"')
    code, out = show(world, cache_dir)
    assert code == 2 and "world.toml:3: database = 'nope.sqlite': no such file" in out
    _edit(world / "world.toml", 'database = "nope.sqlite"', 'database = "policy.md"')
    code, out = show(world, cache_dir)
    assert code == 2 and "policy.md: not a readable SQLite database" in out


def test_a_module_that_fails_to_import_names_its_line(world, cache_dir):
    tools = world / "tools.py"
    tools.write_text(tools.read_text() + "\nraise RuntimeError('no config found')\n")
    code, out = show(world, cache_dir)
    lines = tools.read_text().count("\n")
    assert code == 2
    assert f"{tools}:{lines}: the module failed to import: RuntimeError: no config found" in out
    tools.write_text("def broken(:\n")
    code, out = show(world, cache_dir)
    assert code == 2 and f"{tools}:1: syntax error" in out


def test_a_tool_without_type_hints_names_the_function_and_line(world, cache_dir):
    tools = world / "tools.py"
    tools.write_text(
        tools.read_text() + "\n\ndef close_account(conn: sqlite3.Connection, customer_id):\n"
        '    """Close an account."""\n'
    )
    line = (
        tools.read_text()
        .splitlines()
        .index("def close_account(conn: sqlite3.Connection, customer_id):")
        + 1
    )
    code, out = show(world, cache_dir)
    assert code == 2
    assert f"{tools}:{line}: tool close_account: argument 'customer_id' has no type hint" in out


def test_unknown_tools_in_writes_and_an_unknown_user_table(world, cache_dir):
    toml = world / "world.toml"
    toml.write_text(toml.read_text() + 'writes = ["cancel_everything"]\n')
    code, out = show(world, cache_dir)
    assert code == 2 and "writes/reads name unknown tools: cancel_everything" in out
    toml.write_text(toml.read_text().replace('writes = ["cancel_everything"]\n', ""))
    _edit(toml, 'user_table = "Customer"', 'user_table = "Client"')
    code, out = show(world, cache_dir)
    assert code == 2 and "user_table 'Client' is not a table of the database" in out


def test_validate_and_generate_name_the_world_problem(world, cache_dir, tmp_path):
    _edit(world / "world.toml", 'tools = "tools.py"', 'tools = "missing.py"')
    runner = CliRunner()
    checked = runner.invoke(
        app,
        [
            "validate",
            "--domain",
            str(world),
            "--tasks",
            str(world / "tasks.json"),
            "--cache-dir",
            str(cache_dir),
        ],
    )
    assert checked.exit_code == 2 and "tools = 'missing.py': no such file" in checked.output
    made = runner.invoke(
        app, ["generate", "--domain", str(world), "--n", "1", "--out", str(tmp_path)]
    )
    assert made.exit_code == 2 and "missing.py" in made.output


def test_domains_init_writes_a_world_to_confirm(tmp_path, cache_dir):
    source = world_copy(tmp_path / "company")
    before = digest(source / "app.sqlite")
    target = tmp_path / "my-world"
    result = CliRunner().invoke(
        app,
        [
            "domains",
            "init",
            str(target),
            "--database",
            str(source / "app.sqlite"),
            "--tools",
            str(source / "tools.py"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"apigen-mt domains show {target}" in result.output
    config = tomllib.loads((target / "world.toml").read_text())
    assert config["user_table"] == "Customer"  # inferred, written to confirm
    assert "cancel_order" in config["writes"] and "get_order" in config["reads"]
    text = (target / "world.toml").read_text()
    assert "#   cancel_order: SQL: UPDATE" in text and "# inferred: 'Customer'" in text
    policy = (target / "policy.md").read_text()
    assert "`refund_order_line` (changes the database)" in policy and "`OrderLine`" in policy
    code, out = show(target, cache_dir)
    assert code == 0 and "user table: Customer" in out
    shown = CliRunner().invoke(
        app, ["domains", "show", str(target), "--json", "--cache-dir", str(cache_dir)]
    )
    assert json.loads(shown.stdout)["tools"][4]["evidence"] == "world.toml: listed in `writes`"
    again = CliRunner().invoke(
        app,
        [
            "domains",
            "init",
            str(target),
            "--database",
            str(source / "app.sqlite"),
            "--tools",
            str(source / "tools.py"),
        ],
    )
    assert again.exit_code == 2 and "exists (--force to overwrite)" in " ".join(
        again.output.split()
    )
    bad = CliRunner().invoke(
        app,
        [
            "domains",
            "init",
            str(tmp_path / "x"),
            "--database",
            str(source / "tools.py"),
            "--tools",
            str(source / "tools.py"),
        ],
    )
    assert bad.exit_code == 2 and "not a readable SQLite database" in bad.output
    assert not (tmp_path / "x" / "world.toml").exists()
    assert digest(source / "app.sqlite") == before


def test_the_database_is_opened_read_only_even_when_a_tool_would_write_it(world, cache_dir):
    before = digest(world / "app.sqlite")
    conn = sqlite3.connect(world / "app.sqlite")
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    code, _ = show(world, cache_dir)
    assert code == 0 and digest(world / "app.sqlite") == before and mode == "delete"
    assert not (world / "app.sqlite-journal").exists() and not (world / "app.sqlite-wal").exists()
