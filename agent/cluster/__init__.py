"""The agent's access to its Kubernetes cluster (issue 5, scope 1): the only code of the agent that talks to
the Kubernetes API, through the official `kubernetes` client.

Owns: configuration (kubeconfig or the pod's service account: `config`), in-memory discovery refreshed when a
CRD appears (`discovery`), the asyncio facade over the synchronous client with client-side QPS/burst limits
(`access.ClusterAccess`), list-then-watch streams in their own threads that survive errors and 410 Gone
(`watch.Watch`), and the errors that name the object (`errors`). Objects are plain JSON dicts.
It knows nothing of applications, sync or drift, and never imports `hub` or `kubesim`.
"""

from agent.cluster.access import FIELD_MANAGER, ClusterAccess
from agent.cluster.config import ConfigError
from agent.cluster.errors import ClusterError, InvalidObject, UnknownKind
from agent.cluster.refs import ObjectRef, ResourceKind
from agent.cluster.watch import Watch, WatchEvent

__all__ = ["FIELD_MANAGER", "ClusterAccess", "ClusterError", "ConfigError", "InvalidObject", "ObjectRef",
           "ResourceKind", "UnknownKind", "Watch", "WatchEvent"]
