"""Declaring and executing tools: schema, validation, atomic writes, traced observations."""

import sqlite3
from typing import Annotated, Literal

import pytest
import sqlite_utils
from pydantic import Field

from apigen_mt.tools import ToolError, ToolExecutor, ToolSet, tool


@tool(writes=True)
def add_note(
    db, text: Annotated[str, Field(description="What to write.")], kind: Literal["a", "b"] = "a"
) -> dict:
    """Add a note.

    Longer explanation.
    """
    db.execute("INSERT INTO notes (text) VALUES (?)", [text])
    if text == "fail-after-write":
        raise ToolError("refused after writing")
    if text == "crash-after-write":
        raise RuntimeError("bug")
    return {"count": db.execute("SELECT count(*) FROM notes").fetchone()[0], "kind": kind}


@tool()
def read_notes(db) -> str:
    """Read notes."""
    return ",".join(r[0] for r in db.execute("SELECT text FROM notes ORDER BY rowid"))


@pytest.fixture()
def executor():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE notes (text TEXT)")
    return ToolExecutor(conn, ToolSet.of([add_note, read_notes]))


def test_schema_comes_from_type_hints_and_docstring():
    assert add_note.name == "add_note" and add_note.writes and not read_notes.writes
    assert add_note.description.startswith("Add a note.")
    params = add_note.parameters
    assert params["properties"]["text"] == {"type": "string", "description": "What to write."}
    assert params["properties"]["kind"]["enum"] == ["a", "b"]
    assert params["required"] == ["text"]
    assert "title" not in params
    assert add_note.openai_schema()["function"]["name"] == "add_note"


def test_success_is_rendered_as_json_and_traced(executor):
    entry = executor.call("add_note", {"text": "hi"})
    assert entry.ok and entry.observation == '{"count": 1, "kind": "a"}' and entry.writes
    assert executor.call("read_notes", {}).observation == "hi"
    assert [e.index for e in executor.trace] == [0, 1]


@pytest.mark.parametrize("text", ["fail-after-write", "crash-after-write"])
def test_a_failing_write_leaves_no_partial_change(executor, text):
    executor.call("add_note", {"text": "kept"})
    entry = executor.call("add_note", {"text": text})
    assert not entry.ok and entry.observation.startswith("Error: ")
    assert executor.call("read_notes").observation == "kept"


@pytest.mark.parametrize(
    ("name", "args", "fragment"),
    [
        ("nope", {}, "unknown tool 'nope'"),
        ("add_note", {}, "text: Field required"),
        ("add_note", {"text": "x", "extra": 1}, "extra: Extra inputs are not permitted"),
        ("add_note", {"text": 5}, "text: Input should be a valid string"),
        ("add_note", {"text": "x", "kind": "c"}, "kind: Input should be 'a' or 'b'"),
        ("add_note", ["not", "a", "dict"], "arguments must be a JSON object"),
    ],
)
def test_bad_calls_are_error_observations(executor, name, args, fragment):
    entry = executor.call(name, args)
    assert not entry.ok and entry.observation.startswith("Error: ")
    assert fragment in entry.observation
    assert executor.call("read_notes").observation == ""


def test_executor_refuses_connections_that_would_autocommit_around_savepoints():
    with pytest.raises(ValueError):
        ToolExecutor(sqlite3.connect(":memory:"), ToolSet.of([read_notes]))


def test_duplicate_tool_names_are_rejected():
    with pytest.raises(ValueError):
        ToolSet.of([read_notes, read_notes])


def test_tool_without_type_hint_is_a_declaration_error():
    with pytest.raises(TypeError):

        @tool()
        def untyped(db, x):  # pragma: no cover - never called
            """No hint."""


def test_sqlite_utils_database_is_what_tools_receive(executor):
    assert isinstance(executor.db, sqlite_utils.Database)


@tool()
def joined_notes(db, sql: str = "") -> list:
    """Read notes through `db.query`, as domain tools do."""
    join = "SELECT n.text, m.text FROM notes n JOIN notes m ON n.rowid = m.rowid"
    return list(db.query(sql or join))


def test_query_reads_rows_and_a_write_through_it_is_refused_and_undone():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE notes (text TEXT)")
    executor = ToolExecutor(conn, ToolSet.of([add_note, joined_notes]))
    executor.call("add_note", {"text": "hi"})
    # Repeated column names are kept apart as sqlite-utils does.
    assert executor.call("joined_notes", {}).observation == '[{"text": "hi", "text_2": "hi"}]'
    entry = executor.call("joined_notes", {"sql": "DELETE FROM notes"})
    assert not entry.ok and "query() is for SQL that returns rows" in entry.observation
    assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 1
    assert not conn.in_transaction
