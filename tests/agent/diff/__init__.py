"""Tests of agent.diff: the declared-field diff, ignoreDifferences, field managers and suggestions."""
