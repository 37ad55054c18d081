"""What the world is: domains, their databases, policies, tools and rules (no LLM)."""

from .environment import Environment, Sandbox, default_cache_dir
from .registry import Domain, domain_key, domain_names, get_domain, register_domain
from .rules import PolicyReport, Rule, RuleContext, RuleSet, Violation, check_policy
from .schema import Schema, Table
from .state import RowChange, diff, render_diff, state_hash

__all__ = [
    "Domain",
    "Environment",
    "PolicyReport",
    "RowChange",
    "Rule",
    "RuleContext",
    "RuleSet",
    "Sandbox",
    "Schema",
    "Table",
    "Violation",
    "check_policy",
    "default_cache_dir",
    "diff",
    "domain_key",
    "domain_names",
    "get_domain",
    "register_domain",
    "render_diff",
    "state_hash",
]
