"""The one exception `hub.source` raises for problems a user can fix: `SourceError`, whose text is already
redacted (no URL password, token or key material) and says what to do."""

from __future__ import annotations


class SourceError(Exception):
    """A Git source problem: an unreachable repository, a ref that does not resolve, bad credentials input."""
