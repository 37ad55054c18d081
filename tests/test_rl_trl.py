"""The TRL environment: what `GRPOTrainer(environment_factory=...)` reads of it — public
methods as tools through transformers' own `get_json_schema`, `reset(**row)` with a
dataset row, `get_reward()` — and, with `-m trl`, the real trainer built on it and one
GRPO step run."""

from __future__ import annotations

import inspect
import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from transformers.utils import get_json_schema

from apigen_mt.environments.taubench import load_tasks
from apigen_mt.rl.trl_env import trl_dataset, trl_environment_factory

REPO = Path(__file__).resolve().parents[1]


def user(instruction, turns):
    if turns and turns[-1].speaker == "agent" and "anything else" in turns[-1].text.lower():
        return "No, that's all. ###STOP###"
    return "Hi, I need help with my orders." if not turns else "Yes, please."


@pytest.fixture()
def factory(cli_env, taubench_retail_dir):
    return trl_environment_factory(
        "retail",
        str(taubench_retail_dir / "tasks_test.json"),
        data_dir=str(taubench_retail_dir),
        user=user,
    )


def _tools(instance):
    """The methods TRL exposes, found the way GRPOTrainer finds them."""
    return {
        name: getattr(instance, name)
        for name, _ in inspect.getmembers(type(instance), predicate=inspect.isfunction)
        if name not in ("reset", "get_reward") and not name.startswith("_")
    }


def test_the_methods_are_tools_with_the_domains_schemas(factory):
    instance = factory()
    tools = _tools(instance)
    domain = factory.task_set.env.domain
    assert set(tools) == {*domain.tools.names, "send_message"}
    for name, method in tools.items():
        schema = get_json_schema(method)["function"]
        assert schema["name"] == name and schema["description"]
        if name in domain.tools:
            ours = domain.tools[name].openai_schema()["function"]["parameters"]
            assert set(schema["parameters"]["properties"]) == set(ours["properties"])
            assert set(schema["parameters"].get("required", [])) == set(ours.get("required", []))
    exchange = get_json_schema(tools["exchange_delivered_order_items"])["function"]
    assert exchange["parameters"]["properties"]["item_ids"]["type"] == "array"


def test_a_rollout_earns_the_verifiers_reward(factory, taubench_retail_dir):
    rows = trl_dataset(factory)
    tasks = load_tasks(taubench_retail_dir / "tasks_test.json")
    assert len(rows) == len(tasks) and rows[3]["task_index"] == 3
    assert rows[3]["prompt"][0]["role"] == "system" and rows[3]["prompt"][-1]["content"] == ""
    instance = factory()
    for index in (0, 3):
        assert instance.reset(**rows[index]) == "Hi, I need help with my orders."
        for action in tasks[index].actions:
            getattr(instance, action.name)(**action.arguments)
        said = "Done: " + ", ".join(tasks[index].outputs) + ". Anything else?"
        assert instance.send_message(said).endswith("###STOP###")
        assert instance.get_reward() == 1.0, instance.last_reward
    instance.reset(**rows[0])
    assert instance.get_user_details(user_id="nobody_0").startswith("Error")
    assert instance.get_reward() == 0.0  # nothing done: the state is not the gold one


TRL_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from datasets import Dataset
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import qwen3_chat_template
    from apigen_mt.rl.trl_env import trl_dataset, trl_environment_factory

    retail, out = sys.argv[1], sys.argv[2]
    words = ["<pad>", "<eos>", "<unk>"] + [chr(c) for c in range(32, 127)]
    vocab = {w: i for i, w in enumerate(words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>",
                                        eos_token="<eos>", unk_token="<unk>")
    tokenizer.chat_template = qwen3_chat_template  # one TRL knows how to parse
    tokenizer.padding_side = "left"
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(words), hidden_size=16,
        intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=4096))

    def user(instruction, turns):
        return "Hi, I need help with my orders."

    factory = trl_environment_factory("retail", retail + "/tasks_test.json",
                                      data_dir=retail, user=user)
    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, reward_funcs=[],
        environment_factory=factory, train_dataset=Dataset.from_list(trl_dataset(factory)[:4]),
        args=GRPOConfig(output_dir=out, max_steps=1, per_device_train_batch_size=2,
                        num_generations=2, max_completion_length=8, report_to=[],
                        use_cpu=True, bf16=False),
    )
    trainer.train()  # one GRPO step of a random tiny model: rollouts scored by get_reward
    print(json.dumps({"tools": sorted(t.__name__ for t in trainer.tools),
                      "rewards": trainer.reward_func_names,
                      "log": trainer.state.log_history[-1]}, default=str))
    """
)


@pytest.mark.trl
def test_grpo_trainer_takes_the_environment(taubench_retail_dir, cache_dir, tmp_path):
    """The real TRL (and torch, CPU) in a cached venv: the trainer probes the factory,
    finds its tools and its reward, and runs one GRPO step of a random tiny model (built
    offline) whose rollouts our environment scores."""
    from venvs import cached_venv

    python = cached_venv("trl-venv", "torch==2.13.0", "trl>=1.16", "-e", f"{REPO}[rl]")
    script = tmp_path / "trl_check.py"
    script.write_text(TRL_SCRIPT)
    run = subprocess.run(
        [python, str(script), str(taubench_retail_dir), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=900,
        env={"APIGEN_MT_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin",
             "HF_HUB_OFFLINE": "1", "TRL_EXPERIMENTAL_SILENCE": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"send_message", "cancel_pending_order"} <= set(found["tools"])
    assert "RetailEnvironment" in found["rewards"]
    assert "rewards/RetailEnvironment/mean" in found["log"] and found["log"]["step"] == 1
