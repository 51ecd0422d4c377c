"""Suite-wide settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_exported_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped output folds to an exported ``COLUMNS``; a developer's own must not leak in."""
    monkeypatch.delenv("COLUMNS", raising=False)
