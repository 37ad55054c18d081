"""Plain Python functions as tools: `def fn(conn: sqlite3.Connection, arg: type, ...)`.

Every public function *defined* in the module whose first parameter is a
`sqlite3.Connection` is a tool. Its arguments' JSON schema comes from the type hints, its
descriptions from the docstring (Google, NumPy or reST, read by `docstring-parser`) or
`Annotated[..., Field(description=...)]`. A return value is shown to the agent as JSON (a
string as it is); an exception is a refusal (`Error: <message>`) and the call's writes are
undone.

The function gets a `SandboxConnection`: the sandbox's connection, where `commit()` is a
no-op (the call's writes are kept when it returns) and `rollback()` (or SQL `ROLLBACK`)
undoes only this call's writes so far, since each call runs in the executor's savepoint.
`BEGIN`/`COMMIT`/`END` statements are absorbed likewise, so nothing a tool does can end the
episode's transaction or the savepoint that undoes a refused call.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import sqlite3
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import CodeType, ModuleType
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import docstring_parser
import typing_extensions
from pydantic import ConfigDict, Field, create_model
from pydantic_core import to_jsonable_python

from apigen_mt.tools import Tool, ToolError
from apigen_mt.tools.execute import CALL_SAVEPOINT

from .config import WorldError

CONNECTION_NAMES = ("conn", "connection", "con", "db")  # an unannotated first parameter
_TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|END|ROLLBACK)\b(?!\s+TO\b)", re.IGNORECASE)


class SandboxConnection:
    """The sandbox's connection as a user's tool sees it (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "row_factory", None)
        object.__setattr__(self, "isolation_level", None)

    def cursor(self, *args: Any) -> _SandboxCursor:
        cur = self._conn.cursor()
        cur.row_factory = self.row_factory
        return _SandboxCursor(self, cur)

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: Any) -> Any:
        return self.cursor().executemany(sql, seq)

    def executescript(self, script: str) -> Any:
        # sqlite3's own executescript commits first: run the statements one by one.
        cur = self.cursor()
        for statement in _statements(script):
            cur.execute(statement)
        return cur

    def commit(self) -> None:
        """Nothing to do: the call's writes are kept when the tool returns."""

    def rollback(self) -> None:
        """Undo this call's writes so far (the episode's earlier calls stay)."""
        self._conn.execute(f"ROLLBACK TO {CALL_SAVEPOINT}")

    def close(self) -> None:
        """The sandbox owns the connection."""

    def __enter__(self) -> SandboxConnection:
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> bool:
        if exc_type is not None:
            self.rollback()
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)  # row_factory and the like stay per call


class _SandboxCursor:
    def __init__(self, owner: SandboxConnection, cursor: sqlite3.Cursor):
        self._owner, self._cursor = owner, cursor

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        control = _TRANSACTION.match(sql)
        if control:
            if control.group(1).upper() == "ROLLBACK":
                self._owner.rollback()
            return self._cursor.execute("SELECT 1 WHERE 0")
        self._cursor.execute(sql, parameters)
        return self

    def executemany(self, sql: str, seq: Any) -> Any:
        if _TRANSACTION.match(sql):
            raise sqlite3.ProgrammingError("transaction statements cannot be run with executemany")
        self._cursor.executemany(sql, seq)
        return self

    def __iter__(self):
        return iter(self._cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def _statements(script: str) -> list[str]:
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


# -- loading -----------------------------------------------------------------------------


class PythonToolSource:
    """What one tool's code says, for the read/write classification."""

    def __init__(self, name: str, line: int, sql: list[str]):
        self.name, self.line, self.sql = name, line, sql


def load_module(path: Path, world: str) -> ModuleType:
    """Import the user's module from its file (its folder on sys.path while it imports, so
    its own helper modules import too); a failure names the file and line."""
    safe = re.sub(r"\W", "_", world)
    module_name = f"apigen_mt_world_{safe}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise WorldError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise WorldError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        sys.modules.pop(module_name, None)
        line = _line_in(path, exc)
        raise WorldError(
            f"{path}{f':{line}' if line else ''}: the module failed to import: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    finally:
        sys.path.remove(str(path.parent))
    return module


def _line_in(path: Path, exc: BaseException) -> int | None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return frames[-1].lineno if frames else None


def python_tools(path: Path, world: str) -> tuple[list[Tool], dict[str, PythonToolSource], list]:
    """The module's tools, what their code says, and the public functions that are not
    tools with the reason (shown by `domains show`)."""
    module = load_module(path, world)
    functions = [
        fn
        for name, fn in vars(module).items()
        if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_")
    ]
    functions.sort(key=lambda fn: fn.__code__.co_firstlineno)
    tools, sources, skipped = [], {}, []
    helpers = {n: f for n, f in vars(module).items() if inspect.isfunction(f)}
    for fn in functions:
        where = f"{path}:{fn.__code__.co_firstlineno}"
        params = list(inspect.signature(fn).parameters.values())
        if not params or not _is_connection(fn, params[0], where):
            skipped.append({"name": fn.__name__, "why": "its first parameter is no Connection"})
            continue
        tools.append(_adapt(fn, params[1:], where))
        sources[fn.__name__] = PythonToolSource(
            fn.__name__, fn.__code__.co_firstlineno, _sql_of(fn, helpers)
        )
    if not tools:
        raise WorldError(
            f"{path}: no tools found (a tool is a public function defined in the module whose "
            "first parameter is a sqlite3.Connection)"
        )
    return tools, sources, skipped


def _is_connection(fn: Callable, param: inspect.Parameter, where: str) -> bool:
    if param.annotation is inspect.Parameter.empty:
        return param.name in CONNECTION_NAMES
    hints = _hints(fn, where)
    hint = hints.get(param.name)
    return isinstance(hint, type) and issubclass(hint, sqlite3.Connection)


def _hints(fn: Callable, where: str) -> dict[str, Any]:
    try:
        return get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise WorldError(f"{where}: {fn.__name__}: its type hints do not resolve: {exc}") from None


def _adapt(fn: Callable, params: list[inspect.Parameter], where: str) -> Tool:
    hints = _hints(fn, where)
    doc = docstring_parser.parse(inspect.getdoc(fn) or "")
    described = {p.arg_name: p.description for p in doc.params if p.description}
    fields: dict[str, Any] = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise WorldError(f"{where}: {fn.__name__}: *{p.name} arguments cannot be a schema")
        if p.name not in hints:
            raise WorldError(
                f"{where}: tool {fn.__name__}: argument {p.name!r} has no type hint (the "
                "agent's JSON schema is built from the hints)"
            )
        hint = _portable(hints[p.name])
        if p.name in described and not _has_description(hint):
            hint = Annotated[hint, Field(description=described[p.name])]
        fields[p.name] = (hint, ... if p.default is inspect.Parameter.empty else p.default)
    try:
        model = create_model(
            f"{fn.__name__}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )
        model.model_json_schema()
    except Exception as exc:
        raise WorldError(
            f"{where}: tool {fn.__name__}: unsupported argument types: {exc}"
        ) from None
    description = "\n\n".join(
        part for part in (doc.short_description, doc.long_description) if part
    )
    return Tool(
        name=fn.__name__,
        description=description or fn.__name__.replace("_", " "),
        fn=_invoker(fn),
        arguments_model=model,
    )


def _portable(hint: Any) -> Any:
    """A `typing.TypedDict` rebuilt as typing_extensions' (pydantic needs that before
    Python 3.12); every other hint as it is."""
    if sys.version_info >= (3, 12) or not typing_extensions.is_typeddict(hint):
        return hint
    if type(hint) is type(typing_extensions.TypedDict("_", {})):
        return hint
    fields = {k: _portable(v) for k, v in get_type_hints(hint, include_extras=True).items()}
    rebuilt = typing_extensions.TypedDict(hint.__name__, fields, total=hint.__total__)
    rebuilt.__doc__ = hint.__doc__
    return rebuilt


def _has_description(hint: Any) -> bool:
    if get_origin(hint) is not Annotated:
        return False
    return any(getattr(m, "description", None) for m in get_args(hint)[1:])


def _invoker(fn: Callable) -> Callable[..., str]:
    def call(db: Any, **arguments: Any) -> str:
        try:
            result = fn(SandboxConnection(db.conn), **arguments)
        except ToolError:
            raise
        except Exception as exc:  # the user's refusal (or bug): an observation, undone
            raise ToolError(str(exc) or type(exc).__name__) from exc
        return render(result)

    call.__name__ = fn.__name__
    return call


def render(result: Any) -> str:
    """What the agent sees: a string as it is, anything else as JSON."""
    if isinstance(result, str):
        return result
    return json.dumps(to_jsonable_python(_plain(result)), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, sqlite3.Row):
        return dict(zip(value.keys(), tuple(value), strict=True))
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _sql_of(fn: Callable, helpers: dict[str, Callable], seen: set | None = None) -> list[str]:
    """The SQL text in a function's code and in the module's functions it calls."""
    seen = seen if seen is not None else set()
    if fn.__name__ in seen:
        return []
    seen.add(fn.__name__)
    texts = [c for c in _constants(fn.__code__) if c != fn.__doc__ and _looks_like_sql(c)]
    for name in fn.__code__.co_names:
        if name in helpers and helpers[name] is not fn:
            texts += _sql_of(helpers[name], helpers, seen)
    return texts


def _constants(code: CodeType) -> list[str]:
    out = []
    for c in code.co_consts:
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, CodeType):
            out += _constants(c)
    return out


def _looks_like_sql(text: str) -> bool:
    return bool(
        re.search(
            r"\b(SELECT\b.+\bFROM|INSERT\b|UPDATE\b.+\bSET|DELETE\s+FROM|REPLACE\s+INTO|"
            r"(CREATE|DROP|ALTER)\s+(TABLE|INDEX|VIEW|TRIGGER))",
            text,
            re.IGNORECASE | re.DOTALL,
        )
    )
