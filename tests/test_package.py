"""The install layout: one import root, no bare top-level packages."""

import os
import subprocess
import sys
from pathlib import Path

import apigen_mt.agents
import apigen_mt.environments.retail
import apigen_mt.graphs
import apigen_mt.tools
from apigen_mt.cli import app

REPO = Path(__file__).resolve().parents[1]


def test_folders_are_mapped_under_one_import_root():
    assert apigen_mt.tools.__file__.startswith(str(REPO / "tools"))
    assert apigen_mt.environments.retail.__file__.startswith(str(REPO / "environments" / "retail"))
    assert apigen_mt.graphs.__name__ == "apigen_mt.graphs"
    assert apigen_mt.agents.__name__ == "apigen_mt.agents"


def test_installed_outside_the_repo_only_under_apigen_mt(tmp_path):
    """From another directory the install provides apigen_mt.* and no bare `tools` etc."""
    probe = (
        "import importlib.util, apigen_mt.tools, apigen_mt.environments.retail;"
        "print([m for m in ('tools', 'agents', 'graphs', 'environments')"
        " if importlib.util.find_spec(m) is not None])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert out.stdout.strip() == "[]"


def test_cli_is_a_typer_app():
    assert app.info.help


def test_every_package_folder_is_in_the_package_list():
    """A folder missing from `packages` is absent from wheels while editable installs still
    find it (apigen_mt.scale once was)."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for name, folder in config["package-dir"].items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            if "__pycache__" not in rel.parts:
                found.add(".".join([name, *rel.parts]))
    assert found - listed == set()
