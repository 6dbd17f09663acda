"""The hub's pipeline from commit to clusters (issue 6): revisions from the Git source become each cluster's
desired state, through rendering (`tracks`), rollouts (`hub.rollout`), sync windows and approvals
(`hub.gates`), pushed through the session layer (`hub.sessions`)."""

from hub.pipeline.service import BadRevision, Pipeline

__all__ = ["BadRevision", "Pipeline"]
