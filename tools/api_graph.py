"""The API dependency graph of a domain, and random walks over it that centre on writes.

Edge A -> B when a field of A's output can fill an argument of B: inferred from the tool
schemas and one sample output per tool, then adjusted by the domain (pairs its rules
forbid are removed; links the inference cannot see, such as a bare-string id, are added).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .declare import ToolSet


def output_fields(sample: Any) -> set[str]:
    """Every key that appears anywhere in a (JSON) sample output."""
    if isinstance(sample, str):
        try:
            sample = json.loads(sample)
        except ValueError:
            return set()
    found: set[str] = set()
    if isinstance(sample, dict):
        for k, v in sample.items():
            found.add(k)
            found |= output_fields(v)
    elif isinstance(sample, list):
        for v in sample:
            found |= output_fields(v)
    return found


def fills(output_field: str, argument: str) -> bool:
    """`item_id` fills `item_ids` and `new_item_ids`; `payment_methods` fills
    `payment_method_id`."""
    arg = argument.removeprefix("new_")
    singular = output_field.removesuffix("s")
    return arg in {output_field, f"{output_field}s", f"{singular}_id", f"{singular}_ids", singular}


@dataclass
class ApiGraph:
    tools: ToolSet
    edges: dict[str, set[str]] = field(default_factory=dict)

    def predecessors(self, name: str) -> list[str]:
        return sorted(a for a, bs in self.edges.items() if name in bs)

    def successors(self, name: str) -> list[str]:
        return sorted(self.edges.get(name, set()))

    def walk(self, rng: random.Random, writes: int | None = None) -> list[str]:
        """A tool sequence around 1-3 write tools, each preceded by reads that feed it."""
        write_tools = self.tools.write_names
        if not write_tools:
            return []
        count = writes or rng.choice([1, 1, 1, 2, 2, 3])
        current = rng.choice(write_tools)
        sequence: list[str] = []
        for _ in range(count):
            reads = [p for p in self.predecessors(current) if not self.tools[p].writes]
            for read in rng.sample(reads, k=min(len(reads), rng.randint(0, 2))):
                if read not in sequence:
                    sequence.append(read)
            sequence.append(current)
            # Continue to a write this one can feed, else any other write (weighted to writes).
            nexts = [s for s in self.successors(current) if self.tools[s].writes]
            current = rng.choice(nexts or write_tools)
        return sequence

    def mermaid(self) -> str:
        lines = ["graph LR"]
        for t in self.tools:
            shape = f'{t.name}[["{t.name}"]]' if t.writes else f'{t.name}("{t.name}")'
            lines.append(f"    {shape}")
        for a in sorted(self.edges):
            lines += [f"    {a} --> {b}" for b in sorted(self.edges[a])]
        return "\n".join(lines)


def build_api_graph(
    tools: ToolSet,
    samples: dict[str, Any],
    add: Iterable[tuple[str, str]] = (),
    remove: Iterable[tuple[str, str]] = (),
) -> ApiGraph:
    edges: dict[str, set[str]] = {}
    for a in tools:
        fields = output_fields(samples.get(a.name))
        for b in tools:
            if a.name == b.name:
                continue
            args = b.parameters.get("properties", {})
            if any(fills(f, arg) for f in fields for arg in args):
                edges.setdefault(a.name, set()).add(b.name)
    for a, b in add:
        if a not in tools or b not in tools:
            raise ValueError(f"api graph: unknown tool in added edge {a} -> {b}")
        edges.setdefault(a, set()).add(b)
    for a, b in remove:
        edges.get(a, set()).discard(b)
    return ApiGraph(tools=tools, edges={a: bs for a, bs in edges.items() if bs})
