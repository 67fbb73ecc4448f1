"""The errors every layer may raise: a leaf module, imported by all and importing nothing."""

from __future__ import annotations


class CareflowError(Exception):
    """Something a person can act on, said in one line (the CLI prints ``error: <it>``)."""


class ConfigurationError(CareflowError, ValueError):
    """A setting that cannot work, said in one sentence."""
