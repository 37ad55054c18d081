"""Which of a world's tools write, and why we think so.

In order of authority: the world's own `writes = [...]` / `reads = [...]`; an MCP tool's
annotations (`readOnlyHint`, `destructiveHint`); the SQL in a Python tool's code (and the
module's functions it calls); the tool's name. Calls then check the guess: a "read" whose
call changes the database is an error in `validate` and a rejection reason in phase 1
(the executor records it, `ToolExecutor.undeclared_writes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .config import WorldError

_WRITE_SQL = re.compile(
    r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE\s+\S+.*?\bSET|DELETE\s+FROM|"
    r"(CREATE|DROP|ALTER)\s+(TABLE|INDEX|VIEW|TRIGGER))",
    re.IGNORECASE | re.DOTALL,
)
READ_WORDS = {
    "get", "list", "find", "search", "lookup", "look", "show", "check", "read", "fetch",
    "count", "describe", "query", "view", "calculate", "compute", "verify", "validate",
    "preview", "quote", "estimate", "is", "has", "browse", "retrieve", "think", "info",
}  # fmt: skip
WRITE_WORDS = {
    "create", "add", "insert", "update", "set", "change", "modify", "edit", "delete",
    "remove", "cancel", "book", "reserve", "pay", "refund", "transfer", "return", "exchange",
    "place", "submit", "open", "close", "approve", "reject", "assign", "register", "record",
    "send", "apply", "issue", "grant", "revoke", "upsert", "save", "write", "move", "mark",
    "reset", "order", "purchase", "buy", "renew", "suspend", "activate", "deactivate",
    "enroll", "schedule", "reschedule", "dispute", "block", "unblock", "freeze", "replace",
}  # fmt: skip


@dataclass(frozen=True)
class Classified:
    name: str
    writes: bool
    evidence: str

    def as_json(self) -> dict:
        return {"name": self.name, "writes": self.writes, "evidence": self.evidence}


def words_of(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def by_name(name: str) -> tuple[bool | None, str]:
    words = words_of(name)
    if words and words[0] in WRITE_WORDS:
        return True, f"name: {name!r} starts with {words[0]!r}"
    if words and words[0] in READ_WORDS:
        return False, f"name: {name!r} starts with {words[0]!r}"
    return None, ""


def by_sql(sql: list[str]) -> tuple[bool | None, str]:
    for text in sql:
        match = _WRITE_SQL.search(text)
        if match:
            return True, f"SQL: {_short(text, match.start())}"
    if sql:
        return False, f"SQL: only reads ({_short(sql[0], 0)})"
    return None, ""


def by_annotations(annotations: dict | None) -> tuple[bool | None, str]:
    if not annotations:
        return None, ""
    if annotations.get("readOnlyHint") is True:
        return False, "MCP annotation readOnlyHint=true"
    if annotations.get("destructiveHint") is True:
        return True, "MCP annotation destructiveHint=true"
    if annotations.get("readOnlyHint") is False:
        return True, "MCP annotation readOnlyHint=false"
    return None, ""


def classify(
    name: str,
    *,
    overrides: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
    annotations: dict | None = None,
    sql: list[str] | None = None,
) -> Classified:
    writes, reads = overrides
    if name in writes:
        return Classified(name, True, "world.toml: listed in `writes`")
    if name in reads:
        return Classified(name, False, "world.toml: listed in `reads`")
    sources = [by_annotations(annotations), by_sql(sql or [])]
    if sql is None or sql:  # the name decides only where no code was read, or it holds SQL
        sources.append(by_name(name))
    for verdict, evidence in sources:
        if verdict is not None:
            return Classified(name, verdict, evidence)
    if sql is not None:  # a Python tool whose code (and helpers) hold no SQL at all
        return Classified(name, False, "no SQL in its code or the functions it calls: read")
    return Classified(
        name, False, "no evidence of writing (no annotation, SQL or telling name): read"
    )


def check_overrides(names: list[str], writes: tuple, reads: tuple, source: str) -> None:
    unknown = sorted((set(writes) | set(reads)) - set(names))
    if unknown:
        raise WorldError(f"{source}: writes/reads name unknown tools: {', '.join(unknown)}")
    both = sorted(set(writes) & set(reads))
    if both:
        raise WorldError(f"{source}: tools listed in both writes and reads: {', '.join(both)}")


def _short(text: str, start: int) -> str:
    flat = " ".join(text.split())
    offset = len(" ".join(text[:start].split()))
    snippet = flat[max(0, offset - 10) : offset + 70]
    return snippet + ("…" if len(flat) > offset + 70 else "")
