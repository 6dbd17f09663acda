"""Rollouts across clusters: one application moving to a new revision step by step (a canary, then one
region after another), each step gated on health, halting (or rolling back) by itself when clusters fail.

Owns the pure state machine (`RolloutState`: start, observe, decide, resume, to/from JSON) and its records
(`ClusterReport` in, `Decision` out). It does no I/O and keeps no clock: the pipeline (`hub.plan`) feeds it
reports and the time, pushes what it decides and stores its JSON. The strategy comes from fleet.yaml
(`hub.fleet.model.Rollout`, steps from `Fleet.rollout_plan`); this package never reads files.
"""

from hub.rollout.records import ClusterReport, Decision
from hub.rollout.state import HALTED, PROGRESSING, SOAKING, SUCCEEDED, RolloutState

__all__ = ["HALTED", "PROGRESSING", "SOAKING", "SUCCEEDED", "ClusterReport", "Decision", "RolloutState"]
