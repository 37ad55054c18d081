"""Per-role model settings from env vars and flags."""

import pytest

from apigen_mt.models import chat_model, committee_models
from apigen_mt.settings import ROLES, load_settings, pointed_at


def test_role_specific_beats_shared_beats_openai_defaults():
    s = load_settings(
        {
            "OPENAI_API_KEY": "sk-openai",
            "OPENAI_BASE_URL": "http://openai.example/v1",
            "APIGEN_MT_MODEL": "shared-model",
            "APIGEN_MT_PROPOSER_MODEL": "big-model",
            "APIGEN_MT_TEMPERATURE": "0.2",
            "APIGEN_MT_HUMAN_BASE_URL": "http://other/v1",
        }
    )
    assert s.for_role("proposer").model == "big-model"
    assert s.for_role("reviewer").model == "shared-model"
    assert s.for_role("human").temperature == 0.2
    assert s.for_role("reviewer").temperature == 0.0  # judging roles: only their own setting
    assert s.for_role("human").base_url == "http://other/v1"
    assert s.for_role("assistant").base_url == "http://openai.example/v1"
    assert s.for_role("assistant").api_key == "sk-openai"
    assert not s.embedded


def test_judging_roles_default_to_temperature_zero_and_stay_configurable():
    defaults = load_settings({})
    assert {r: defaults.for_role(r).temperature for r in ("reviewer", "human_judge")} == {
        "reviewer": 0.0,
        "human_judge": 0.0,
    }
    assert {defaults.for_role(r).temperature for r in ("proposer", "human", "assistant")} == {0.7}
    own = load_settings(
        {"APIGEN_MT_TEMPERATURE": "1.0", "APIGEN_MT_REVIEWER_TEMPERATURE": "0.3"},
        {"human_judge_temperature": 0.1},
    )
    assert own.for_role("reviewer").temperature == 0.3
    assert own.for_role("human_judge").temperature == 0.1
    assert own.for_role("proposer").temperature == 1.0


def test_flags_override_env():
    s = load_settings({"APIGEN_MT_MODEL": "env"}, {"model": "flag", "assistant_model": "agent"})
    assert s.for_role("proposer").model == "flag" and s.for_role("assistant").model == "agent"


def test_nothing_configured_means_embedded():
    s = load_settings({})
    assert s.embedded and set(s.roles) == set(ROLES)
    local = pointed_at(s, "http://127.0.0.1:9/v1", "tiny", tools_url="http://127.0.0.1:8/v1")
    others = [r for role, r in local.roles.items() if role != "assistant"]
    assert all(r.base_url == "http://127.0.0.1:9/v1" for r in others)
    assert local.for_role("assistant").base_url == "http://127.0.0.1:8/v1"
    assert all(
        r.structured_mode == "json_object" and r.max_tokens and r.max_retries <= 1
        for r in local.roles.values()
    )


def test_bad_values_name_the_role():
    with pytest.raises(ValueError, match="role 'proposer'"):
        load_settings({"APIGEN_MT_PROPOSER_TEMPERATURE": "hot"})
    with pytest.raises(KeyError, match="unknown role"):
        load_settings({}).for_role("critic")


def test_committee_cycles_through_diverse_models():
    s = load_settings({"OPENAI_API_KEY": "k", "APIGEN_MT_REVIEWER_MODELS": "a, b"})
    assert [r.model for r in s.committee(3)] == ["a", "b", "a"]
    assert [m.model_name for m in committee_models(s, 2)] == ["a", "b"]


def test_factory_builds_chat_openai_with_the_settings():
    s = load_settings(
        {
            "OPENAI_API_KEY": "k",
            "APIGEN_MT_BASE_URL": "http://x/v1",
            "APIGEN_MT_MAX_RETRIES": "5",
            "APIGEN_MT_TIMEOUT": "7",
            "APIGEN_MT_REQUESTS_PER_SECOND": "4",
        }
    )
    a, b = chat_model("proposer", s), chat_model("human", s)
    assert a.max_retries == 5 and a.request_timeout == 7 and a.openai_api_base == "http://x/v1"
    assert a.rate_limiter is b.rate_limiter  # one limiter per endpoint
    assert a.metadata["apigen_role"] == "proposer"
