"""The diagrams in docs/graphs.md are the graphs the code builds."""

from pathlib import Path

from apigen_mt.graphs.diagrams import diagrams

DOC = Path(__file__).resolve().parents[1] / "docs" / "graphs.md"


def test_graph_diagrams_are_current(retail_env):
    assert DOC.read_text() == diagrams(retail_env), (
        "docs/graphs.md is stale: python -m apigen_mt.graphs.diagrams > docs/graphs.md"
    )


def test_langgraph_json_lists_every_graph_factory():
    import importlib
    import json

    spec = json.loads((DOC.parents[1] / "langgraph.json").read_text())["graphs"]
    graphs_dir = DOC.parents[1] / "graphs"
    factories = {
        f"apigen_mt.graphs.{p.stem}:{line.split('(')[0].removeprefix('def ')}"
        for p in graphs_dir.glob("*.py")
        for line in p.read_text().splitlines()
        if line.startswith("def build_") and line.split("(")[0].endswith("_graph")
    }
    assert set(spec.values()) == factories
    for target in spec.values():
        module, name = target.split(":")
        graph = getattr(importlib.import_module(module), name)()
        assert graph.get_graph().nodes  # compiles with no arguments, as `langgraph dev` calls it
