"""cherryconf: set up and repair Cherry Studio's LLM provider configuration."""

from __future__ import annotations

__version__ = "0.1.0"
