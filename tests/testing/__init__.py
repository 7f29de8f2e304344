"""What tests share: builders, harnesses and checks; imported by name, never from conftest."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the checkout: tests/testing/__init__.py -> the repository's root
