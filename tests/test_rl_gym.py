"""`apigen_mt/<domain>-v0` through Gymnasium's own `make`, registry and env checker: the
gold actions earn 1.0, a policy that does nothing or writes wrongly earns 0 with the
components saying why, invalid actions are observations, the step limit truncates."""

from __future__ import annotations

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env
from world_helpers import world_copy

import apigen_mt.rl
from apigen_mt.environments import domain_names
from apigen_mt.environments.taubench import load_tasks


def user(instruction, turns):
    """A user who opens with a request and leaves when the agent says it is finished."""
    if turns and turns[-1].speaker == "agent" and "anything else" in turns[-1].text.lower():
        return "No, that's all. ###STOP###"
    return "Hi, I need help with my orders." if not turns else "Yes, please go ahead."


@pytest.fixture()
def retail(cli_env, taubench_retail_dir):
    tasks = taubench_retail_dir / "tasks_test.json"
    env = gymnasium.make(
        "apigen_mt/retail-v0", tasks=str(tasks), data_dir=str(taubench_retail_dir), user=user
    )
    yield env, load_tasks(tasks)
    env.close()


def _finish(env, outputs):
    said = "Done: " + ", ".join(outputs) + ". Is there anything else?"
    return env.step({"message": said})


def test_every_domain_is_registered():
    built_in = {"retail", "airline", "banking", "tau2-retail", "tau2-airline", "tau2-telecom"}
    assert {f"apigen_mt/{d}-v0" for d in built_in} <= set(gymnasium.registry)  # on import
    # a domain registered later (a test's, a plugin's) gets its id from register_envs()
    apigen_mt.rl.register_envs()
    assert {f"apigen_mt/{d}-v0" for d in domain_names()} <= set(gymnasium.registry)


def test_the_gold_actions_earn_the_verifiers_reward(retail):
    env, tasks = retail
    for index in range(6):
        observation, info = env.reset(options={"task_index": index})
        assert observation == "Hi, I need help with my orders."
        assert info["task_index"] == index and info["policy"] and info["pass_rate"] is None
        assert {t["function"]["name"] for t in info["tools"]} >= {"get_user_details"}
        for action in tasks[index].actions:
            observation, reward, terminated, truncated, step_info = env.step(
                {"tool": action.name, "arguments": action.arguments}
            )
            assert reward == 0.0 and not terminated and not truncated
        observation, reward, terminated, truncated, step_info = _finish(env, tasks[index].outputs)
        assert observation.endswith("###STOP###") and terminated and not truncated
        assert reward == 1.0, step_info["reward_components"]
        parts = step_info["reward_components"]
        assert parts["state_matches"] and parts["missing_outputs"] == []


def test_doing_nothing_or_the_wrong_write_earns_zero_and_says_why(retail):
    env, tasks = retail
    env.reset(options={"task_index": 0})
    _, reward, terminated, _, info = _finish(env, [])
    assert terminated and reward == 0.0
    assert info["reward_components"]["tables_differ"] == ["orders"]
    gold = tasks[0].actions
    env.reset(options={"task_index": 0})
    for action in gold[:-1]:
        env.step({"tool": action.name, "arguments": action.arguments})
    wrong = {**gold[-1].arguments, "payment_method_id": "gift_card_0000000"}
    observation, *_ = env.step({"tool": gold[-1].name, "arguments": wrong})
    assert observation.startswith("Error")  # a payment method the user does not have
    _, reward, _, _, info = _finish(env, tasks[0].outputs)
    assert reward == 0.0 and not info["reward_components"]["state_matches"]


def test_invalid_actions_are_observations_and_count_as_steps(cli_env, taubench_retail_dir):
    env = gymnasium.make(
        "apigen_mt/retail-v0",
        tasks=str(taubench_retail_dir / "tasks_test.json"),
        data_dir=str(taubench_retail_dir),
        user=user,
        max_steps=6,
    )
    env.reset(options={"task_index": 1})
    seen = [
        env.step({"tool": "launch_rocket", "arguments": {}})[0],
        env.step({"tool": "get_user_details", "arguments": '{"user_id": "yusuf_ro'})[0],
        env.step({"tool": "get_user_details", "arguments": {"user": 3}})[0],
        env.step(["not", "an", "action"])[0],
        env.step('{"tool": "get_order_details", "arguments": {"order_id": "#W0000000"}}')[0],
    ]
    assert all(s.startswith("Error") for s in seen), seen
    assert "unknown tool" in seen[0] and "not valid JSON" in seen[1]
    _, reward, terminated, truncated, info = env.step({"message": "Still looking."})
    assert truncated and not terminated and reward == 0.0 and info["ended_by"] == "turn_limit"
    with pytest.raises(RuntimeError, match="ended"):
        env.step({"message": "hello?"})
    env.close()


def test_gymnasiums_env_checker_passes(cli_env, taubench_retail_dir):
    env = apigen_mt.rl.ApigenMTEnv(
        "retail",
        str(taubench_retail_dir / "tasks_test.json"),
        data_dir=str(taubench_retail_dir),
        user=user,
    )
    check_env(env, skip_render_check=True)
    env.close()


def test_a_task_index_out_of_range_is_a_clear_error(retail):
    env, tasks = retail
    with pytest.raises(IndexError, match="out of range"):
        env.reset(options={"task_index": len(tasks)})
    _, info = env.reset(seed=3)  # no index: drawn from the seeded generator
    assert 0 <= info["task_index"] < len(tasks)


def test_a_world_folder_registers_under_its_name(cli_env, tmp_path):
    world = world_copy(tmp_path / "w")
    env_id = apigen_mt.rl.register_world(world)
    assert env_id == "apigen_mt/acme-v0"
    env = gymnasium.make(env_id, tasks=str(world / "tasks.json"), user=user)
    tasks = load_tasks(world / "tasks.json")
    env.reset(options={"task_index": 0})
    for action in tasks[0].actions:
        env.step({"tool": action.name, "arguments": action.arguments})
    _, reward, terminated, _, info = _finish(env, tasks[0].outputs)
    assert terminated and reward == 1.0, info["reward_components"]
    env.close()
    with pytest.raises(ValueError, match="not a world folder"):
        apigen_mt.rl.register_world(tmp_path / "nowhere")


def test_a_dual_control_task_is_solved_by_guiding_the_user(cli_env):
    """tau2-telecom as an RL environment: the policy acts on the carrier's side and asks
    the customer to act on the phone; the scripted customer runs what is asked on its own
    side (unseen by the policy) and reports; τ²'s ENV_ASSERTION scores the end state."""
    from tau2_reference import tasks_file

    acted: set[int] = set()

    def customer(instruction, turns):
        asked = turns[-1].text if turns and turns[-1].speaker == "agent" else ""
        if "anything else" in asked.lower():
            return "No, thanks. ###STOP###"
        if asked.startswith("Please run ") and len(turns) not in acted:
            acted.add(len(turns))
            return {"tool_calls": [{"name": asked.split()[2], "arguments": {}}]}
        return "My mobile data does not work." if not turns else "Done, it worked."

    env = gymnasium.make(
        "apigen_mt/tau2-telecom-v0", tasks=str(tasks_file("telecom")), user=customer
    )
    observation, info = env.reset(options={"task_index": 1})  # airplane mode + data off
    assert "toggle_airplane_mode" not in {t["function"]["name"] for t in info["tools"]}
    for name in ("toggle_airplane_mode", "toggle_data"):
        observation, reward, terminated, _, _ = env.step({"message": f"Please run {name} now."})
        assert observation == "Done, it worked." and not terminated
    observation, reward, terminated, _, info = env.step({"message": "Anything else?"})
    assert terminated and reward == 1.0, info["reward_components"]
    assert info["reward_components"]["tau2"]["components"] == {"ENV_ASSERTION": 1.0}
    env.reset(options={"task_index": 1})  # a policy that never asks the customer to act
    _, reward, terminated, _, info = env.step({"message": "Anything else?"})
    assert terminated and reward == 0.0
    env.close()


def test_text_actions_read_as_a_model_writes_them():
    from apigen_mt.rl import Action, parse_action

    assert parse_action("42") == Action(message="42")  # a number said to the user
    assert parse_action("Your order is on its way.") == Action(message="Your order is on its way.")
    fenced = '```json\n{"tool": "get_user_details", "arguments": {"user_id": "u1"}}\n```'
    assert parse_action(fenced) == Action(tool="get_user_details", arguments={"user_id": "u1"})
    assert parse_action('{"tool": "get_user_details", "argu').startswith("Error: the action is not")
    assert parse_action({"tool": "x", "arguments": "[1]"}).startswith("Error: the arguments of x")
