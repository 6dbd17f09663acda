"""Notifications from the hub (issue 7): triggers on what agents report (deployed, sync failed, health degraded,
drift, sync loop), on the pipeline (rollout halted, approval required) and on the session registry (an agent
away longer than a grace period), sent to Slack-compatible incoming webhooks and generic JSON webhooks with a
template per trigger from the hub's configuration file.

Owns the `notifications` section of that file (`config`), the pure trigger functions (`triggers`), the `{field}`
templates (`templates`), the sinks' bodies and HTTP (`sinks`), its own de-duplication record (`outbox`, a SQLite
file in the data dir, not the hub's main store) and the `Notifier` (`delivery`): never blocking its callers,
once per (trigger, application, cluster, revision), retried with backoff. It reads nothing of Git or the
clusters: the hub's wiring feeds it.
"""

from hub.notify.config import NotificationsConfig, NotificationsConfigError, load_config, parse_config
from hub.notify.delivery import Notifier
from hub.notify.metrics import NotifyMetrics
from hub.notify.triggers import TRIGGERS, Notification

__all__ = ["TRIGGERS", "Notification", "NotificationsConfig", "NotificationsConfigError", "Notifier",
           "NotifyMetrics", "load_config", "parse_config"]
