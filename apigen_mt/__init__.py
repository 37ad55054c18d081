"""apigen-mt: verified multi-turn agent training data, after APIGen-MT (Salesforce, 2025)."""

__version__ = "0.1.0"
