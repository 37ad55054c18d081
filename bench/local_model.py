"""The embedded model on this machine: server start time, prompt-eval and generation speed
for a proposer-sized prompt, and a structured (grammar-constrained) proposer call.

    python bench/local_model.py [--runs 3]      (needs the `local` extra)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from langchain_core.messages import AIMessage, HumanMessage

from apigen_mt.agents import ProposerInput, make_proposer
from apigen_mt.agents.proposer import proposer_prompt
from apigen_mt.environments import Environment
from apigen_mt.environments.retail.records import load_orders, load_users
from apigen_mt.local_model import MODEL_NAME, EmbeddedModel, find_gguf
from apigen_mt.models import chat_model_from
from apigen_mt.settings import load_settings, pointed_at


def proposer_input() -> ProposerInput:
    env = Environment.generated("retail", seed=0)
    with env.sandbox() as sb:
        user_id = sb.db.execute("SELECT user_id FROM users ORDER BY rowid LIMIT 1").fetchone()[0]
        user = load_users(sb.db, [user_id])[user_id]
        orders = load_orders(sb.db, user["orders"][:2])
    return ProposerInput(
        domain="retail",
        policy=env.domain.policy[:1500],
        tools=[t.openai_schema() for t in env.domain.tools if t.writes][:3],
        records=json.dumps({"user_id": user_id, "user": user, "orders": orders}),
        persona="A retired teacher who writes long, polite messages.",
    )


def count_tokens(messages) -> int:
    """Tokens of the prompt by the model's own tokenizer."""
    from llama_cpp import Llama

    vocab = Llama(str(find_gguf()), vocab_only=True, verbose=False)
    return sum(len(vocab.tokenize(m.content.encode())) + 4 for m in messages)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    x = proposer_input()
    with EmbeddedModel() as embedded:
        print(
            f"server start: chat {embedded.chat.started_in:.2f} s, "
            f"tools {embedded.tools.started_in:.2f} s"
        )
        base = pointed_at(load_settings({}), embedded.chat.base_url, MODEL_NAME).for_role(
            "proposer"
        )

        def timed(messages, max_tokens: int) -> tuple[float, AIMessage]:
            model = chat_model_from(
                "proposer", base.model_copy(update={"max_tokens": max_tokens, "temperature": 0.0})
            )
            start = time.perf_counter()
            reply = model.invoke(messages)
            return time.perf_counter() - start, reply

        prefill, gen, prompt_tokens = [], [], 0
        for run in range(args.runs):
            messages = proposer_prompt(x)
            # A nonce at the very start defeats llama.cpp's reuse of the previous prompt.
            messages[0] = messages[0].model_copy(
                update={"content": f"[run {run}] {messages[0].content}"}
            )
            cold, _ = timed(messages, 1)
            prompt_tokens = count_tokens(messages)
            prefill.append(prompt_tokens / cold)
            # Generation on a short prompt, where prompt evaluation is negligible.
            t, r2 = timed([HumanMessage(f"Run {run}: list 150 fruits, one per line.")], 256)
            gen.append(r2.usage_metadata["output_tokens"] / t)
        print(f"proposer prompt: {prompt_tokens} tokens")
        print(
            f"prompt eval: {statistics.median(prefill):.0f} tokens/s "
            f"({prompt_tokens / statistics.median(prefill):.1f} s per proposer prompt)"
        )
        print(f"generation: {statistics.median(gen):.1f} tokens/s (median of {args.runs})")
        proposer = make_proposer(chat_model_from("proposer", base))
        start = time.perf_counter()
        result = proposer.invoke(x)
        print(
            f"structured proposer call: {time.perf_counter() - start:.1f} s -> "
            f"{type(result).__name__}"
        )


if __name__ == "__main__":
    main()
