"""Notebooks run as tests (nbmake). The Jupyter kernel talks to pytest over loopback."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.enable_socket)
            item.add_marker(pytest.mark.allow_hosts(["127.0.0.1"]))
