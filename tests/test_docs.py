"""The diagrams in docs/graphs.md are the graphs the code builds."""

from pathlib import Path

from apigen_mt.graphs.diagrams import diagrams

DOC = Path(__file__).resolve().parents[1] / "docs" / "graphs.md"


def test_graph_diagrams_are_current(retail_env):
    assert DOC.read_text() == diagrams(retail_env), (
        "docs/graphs.md is stale: python -m apigen_mt.graphs.diagrams > docs/graphs.md"
    )
