"""Test doubles, public as langchain-core's fake chat models are: for your tests,
notebooks, demos and benchmarks — never imported by the product path (an import-linter
contract in pyproject.toml keeps it so).

- `ScriptedChatModel` (`scripted_chat`): a chat model that answers from a script and
  records every call.
- `OracleRoles` (`scripted_roles`): every LLM role played from the prompts, so a whole
  pipeline runs offline (the proposer through a per-domain `propose` function).
- `FakeOpenAIServer` (`fake_openai`): a loopback OpenAI-compatible endpoint, with faults
  (429, 500, stalls, resets, garbage) to inject, for the real ChatOpenAI path.
- `LangSmithRecorder` (`fake_langsmith`): a loopback LangSmith endpoint recording runs.
"""

from .fake_langsmith import LangSmithRecorder
from .fake_openai import FakeOpenAIServer, Fault, Reply, Reset, Stall
from .scripted_chat import ScriptedChatModel, ScriptExhausted, tool_call
from .scripted_roles import OracleRoles

__all__ = [
    "FakeOpenAIServer",
    "Fault",
    "LangSmithRecorder",
    "OracleRoles",
    "Reply",
    "Reset",
    "ScriptExhausted",
    "ScriptedChatModel",
    "Stall",
    "tool_call",
]
