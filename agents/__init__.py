"""LLM roles: each a prompt, an output schema and a factory taking a BaseChatModel."""

from .assistant import Assistant, make_assistant
from .call_limit import CallLimit, limited_calls, llm_slot, observe_response
from .feedback import FeedbackInput, FeedbackPlan, make_feedback
from .human import STOP, HumanInput, HumanSimulator, Turn, is_stop, make_human
from .human_judge import JudgeInput, JudgeScores, judge_schema, make_human_judge
from .nl_judge import NLJudgeInput, NLVerdicts, make_nl_judge, verdicts_for
from .proposer import Action, Blueprint, ProposerInput, make_proposer
from .recombiner import CombinedInstruction, RecombineInput, make_recombiner
from .reviewer import CRITERIA, Review, ReviewInput, make_reviewer
from .structured import RoleFailure, StructuredRole, astructured, structured

__all__ = [
    "CRITERIA",
    "STOP",
    "Action",
    "Assistant",
    "Blueprint",
    "CallLimit",
    "CombinedInstruction",
    "FeedbackInput",
    "FeedbackPlan",
    "HumanInput",
    "HumanSimulator",
    "JudgeInput",
    "JudgeScores",
    "NLJudgeInput",
    "NLVerdicts",
    "ProposerInput",
    "RecombineInput",
    "Review",
    "ReviewInput",
    "RoleFailure",
    "StructuredRole",
    "Turn",
    "astructured",
    "is_stop",
    "judge_schema",
    "limited_calls",
    "llm_slot",
    "make_assistant",
    "make_feedback",
    "make_human",
    "make_human_judge",
    "make_nl_judge",
    "make_proposer",
    "make_recombiner",
    "make_reviewer",
    "observe_response",
    "structured",
    "verdicts_for",
]
