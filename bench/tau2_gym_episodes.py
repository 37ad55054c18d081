"""τ²'s own `AgentGymEnv` episodes, timed: run by bench/rl_env.py in τ²'s venv.

    <τ² venv python> bench/tau2_gym_episodes.py TASKS_JSON N

For each of the first N retail tasks: reset, the gold actions as tool-call steps, a closing
message the scripted user answers with ###STOP###, and τ²'s evaluation (in the final
step). The user simulator's LLM call is replaced by the same scripted user our side uses,
so only the environments are timed. Prints one JSON line: {episodes, seconds, rewards}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from loguru import logger
from tau2.data_model.message import AssistantMessage, UserMessage
from tau2.data_model.simulation import NLAssertionCheck
from tau2.evaluator.evaluator_nl_assertions import NLAssertionsEvaluator
from tau2.gym.gym_agent import AgentGymEnv
from tau2.user import user_simulator


def scripted_user(self, message, state):
    """The bench's user: opens with a request, leaves when asked whether anything else."""
    text = message.content if isinstance(message, AssistantMessage) else ""
    if text and "anything else" in text.lower():
        return UserMessage(role="user", content="No, that's all. ###STOP###")
    return UserMessage(role="user", content="Hi, I need help with my orders.")


def no_judge(cls, trajectory, nl_assertions):
    """No LLM judges NL assertions in the bench (on our side none is configured either)."""
    return [
        NLAssertionCheck(nl_assertion=a, met=False, justification="no judge") for a in nl_assertions
    ]


def main() -> None:
    logger.remove()  # τ² logs every step at INFO
    user_simulator.UserSimulator._generate_next_message = scripted_user
    NLAssertionsEvaluator.evaluate_nl_assertions = classmethod(no_judge)
    tasks = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))[: int(sys.argv[2])]
    rewards = []
    start = time.perf_counter()
    for task in tasks:
        env = AgentGymEnv(domain="retail", task_id=task["id"])
        env.reset()
        reward, done = 0.0, False
        for action in task["evaluation_criteria"]["actions"]:
            step = json.dumps({"name": action["name"], "arguments": action["arguments"]})
            _, reward, done, _, _ = env.step(step)
            if done:
                break
        if not done:
            _, reward, done, _, _ = env.step("Done. Is there anything else?")
        rewards.append(reward)
    seconds = time.perf_counter() - start
    print(json.dumps({"episodes": len(tasks), "seconds": seconds, "rewards": rewards}))


if __name__ == "__main__":
    main()
