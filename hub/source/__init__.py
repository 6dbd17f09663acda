"""The hub's Git source: the fleet repository mirrored under the hub's data directory and watched for new commits.

Owns cloning and incremental fetching (`GitMirror`), credentials handed to git out of sight (`Credentials`,
`load_credentials`), polling and nudging with the last good revision kept when the repository is unreachable
(`SourceWatcher`, stale-source status and metrics), push webhooks (`webhook_routes`, GitHub and generic HMAC
signatures), and signed-commit verification with GnuPG (`verify_commit`, `import_keys`). It never renders,
plans or talks to agents: it hands `(name, sha)` to whoever listens, and the renderer reads the mirror's path.
"""

from hub.source.credentials import Credentials, load_credentials
from hub.source.errors import SourceError
from hub.source.metrics import SourceMetrics
from hub.source.mirror import CommitInfo, GitMirror
from hub.source.signatures import SignatureStatus, import_keys, normalize_key_id, verify_commit
from hub.source.watcher import SourceStatus, SourceWatcher, TrackedRef, retry_delay
from hub.source.webhooks import (
    PushNotice,
    parse_push,
    verify_generic,
    verify_github,
    webhook_routes,
)

__all__ = ["CommitInfo", "Credentials", "GitMirror", "PushNotice", "SignatureStatus", "SourceError",
           "SourceMetrics", "SourceStatus", "SourceWatcher", "TrackedRef", "import_keys", "load_credentials",
           "normalize_key_id", "parse_push", "retry_delay", "verify_commit", "verify_generic", "verify_github",
           "webhook_routes"]
