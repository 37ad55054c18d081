"""`python -m apigen_mt.cli`: the same as the `apigen-mt` command."""

from . import app

app(prog_name="apigen-mt")
