"""The `apigen-mt` command line."""

import typer

from . import (
    audit,
    browse,
    compose,
    demo,
    domains,
    evaluate,
    generate,
    local_model,
    replay,
    runs,
    serve,
    taubench,
    validate,
)

app = typer.Typer(help="Verified multi-turn agent training data (APIGen-MT).", no_args_is_help=True)
app.command("generate")(generate.generate)
app.command("demo")(demo.demo)
app.add_typer(runs.app, name="runs")
app.command("report")(runs.report)
app.command("export")(runs.export)
app.command("browse")(browse.browse)
app.command("validate")(validate.validate)
app.command("audit")(audit.audit)
app.command("replay")(replay.replay)
app.command("serve")(serve.serve)
app.command("compose")(compose.compose)
app.add_typer(evaluate.app, name="eval")
app.add_typer(domains.app, name="domains")
app.add_typer(taubench.app, name="taubench")
app.add_typer(local_model.app, name="local-model")

__all__ = ["app"]
