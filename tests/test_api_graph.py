"""The API dependency graph: inferred edges, domain overrides, write-centred walks."""

import random

import pytest

from apigen_mt.graphs.sampling import api_graph_of
from apigen_mt.tools.api_graph import build_api_graph, fills, output_fields


def test_field_matching():
    assert fills("item_id", "new_item_ids") and fills("order_id", "order_id")
    assert fills("payment_methods", "payment_method_id") and not fills("zip", "order_id")
    assert output_fields('{"a": {"b": [{"c": 1}]}}') == {"a", "b", "c"}
    assert output_fields("plain text") == set()


def test_retail_graph_links_reads_to_the_writes_they_feed(retail_env):
    graph = api_graph_of(retail_env)
    assert "cancel_pending_order" in graph.successors("get_order_details")
    assert "modify_pending_order_items" in graph.successors("get_product_details")
    assert "get_user_details" in graph.successors("find_user_id_by_email")  # added by the domain
    assert "modify_pending_order_items" not in graph.successors("cancel_pending_order")
    text = graph.mermaid()
    assert text.startswith("graph LR") and "get_order_details --> cancel_pending_order" in text


def test_walks_centre_on_writes_and_are_deterministic(retail_env):
    graph = api_graph_of(retail_env)
    tools = retail_env.domain.tools
    walks = [graph.walk(random.Random(i)) for i in range(50)]
    assert all(any(tools[t].writes for t in w) for w in walks)
    assert walks == [graph.walk(random.Random(i)) for i in range(50)]
    # Reads in a walk come before a write they can feed.
    for w in walks:
        for i, name in enumerate(w):
            if not tools[name].writes:
                assert any(tools[n].writes and n in graph.successors(name) for n in w[i + 1 :])


def test_explicit_edges_must_name_real_tools(retail_env):
    with pytest.raises(ValueError, match="unknown tool"):
        build_api_graph(retail_env.domain.tools, {}, add=[("nope", "think")])
