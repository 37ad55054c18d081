"""Retail policy as executable checks (see policy.md)."""

from apigen_mt.environments.rules import RuleSet

RULES = RuleSet()
