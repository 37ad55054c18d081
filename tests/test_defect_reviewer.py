"""The defect reviewer: one verdict per τ³ defect class, counted by the committee's vote,
and named in the store and on the blueprint's page."""

from __future__ import annotations

import asyncio
import json

import pytest
from langchain_core.messages import AIMessage

from apigen_mt.agents import ReviewInput
from apigen_mt.agents.defect_reviewer import BREAKS, DEFECTS, make_defect_reviewer
from apigen_mt.graphs import committee
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.runs import STORE_FILE, open_run
from apigen_mt.store import RunStore
from apigen_mt.testing import ScriptedChatModel
from apigen_mt.testing.scripted_roles import OracleRoles

REVIEW = ReviewInput(blueprint="{}", tools="", diff="", policy="")


def _says(defect: str) -> ScriptedChatModel:
    verdict = {"reflection": "checked every class", "defect": defect, "explanation": "fix it"}
    return ScriptedChatModel(responder=lambda m: AIMessage(json.dumps(verdict)))


@pytest.mark.parametrize("defect", sorted(DEFECTS))
async def test_each_defect_class_is_named_and_zeroes_what_it_breaks(defect):
    review = await make_defect_reviewer(_says(defect)).ainvoke(REVIEW)
    assert review.defect == defect and review.reflection.startswith(f"defect: {defect}.")
    assert getattr(review, BREAKS[defect]) == 0 and review.total == 3
    assert review.correction == "fix it"


async def test_a_sound_task_passes_every_criterion():
    review = await make_defect_reviewer(_says("none")).ainvoke(REVIEW)
    assert review.defect == "none" and review.total == 4


async def test_an_unknown_class_is_a_failed_review_not_a_crash():
    review = await make_defect_reviewer(_says("vibes")).ainvoke(REVIEW)
    assert review.__class__.__name__ == "RoleFailure"


def test_the_committee_records_the_defect_and_browse_shows_it(retail_env, tmp_path, monkeypatch):
    monkeypatch.setitem(committee._REVIEWERS, "defects", make_defect_reviewer(_says("data_error")))
    store = RunStore(tmp_path / STORE_FILE)
    run_id, config, _ = open_run(
        store, PipelineConfig(domain="retail", n=2, best_of_n=1, recombine_rate=0, trials=1)
    )
    models = OracleRoles().chat_models()
    ctx = PipelineContext(env=retail_env, store=store, models=models, config=config, run_id=run_id)
    asyncio.run(run_pipeline(ctx))
    blueprint = store.blueprints(run_id)[0]
    (review,) = [r for r in store.reviews(blueprint["id"]) if r["reviewer"] == "defects"]
    assert review["data"]["defect"] == "data_error" and review["data"]["correctness"] == 0
    pytest.importorskip("datasette")
    from apigen_mt.browse import make_datasette

    page = asyncio.run(
        make_datasette(tmp_path / STORE_FILE).client.get(f"/apigen/blueprint/{blueprint['id']}")
    )
    assert page.status_code == 200 and "defect: data_error" in page.text
