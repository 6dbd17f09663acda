from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    DRIFT_DETECTED: _ClassVar[EventType]
    DRIFT_HEALED: _ClassVar[EventType]
    SYNC_STARTED: _ClassVar[EventType]
    SYNC_SUCCEEDED: _ClassVar[EventType]
    SYNC_FAILED: _ClassVar[EventType]
    HOOK_RESULT: _ClassVar[EventType]
    SYNC_LOOP: _ClassVar[EventType]
    HEALTH_CHANGED: _ClassVar[EventType]
    OUTBOX_GAP: _ClassVar[EventType]
    DESIRED_STATE_APPLIED: _ClassVar[EventType]

class GoodbyeReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GOODBYE_REASON_UNSPECIFIED: _ClassVar[GoodbyeReason]
    FENCED: _ClassVar[GoodbyeReason]
    REVOKED: _ClassVar[GoodbyeReason]
    UNSUPPORTED_PROTOCOL: _ClassVar[GoodbyeReason]
    IDENTITY_MISMATCH: _ClassVar[GoodbyeReason]
    SHUTTING_DOWN: _ClassVar[GoodbyeReason]
    PROTOCOL_ERROR: _ClassVar[GoodbyeReason]
EVENT_TYPE_UNSPECIFIED: EventType
DRIFT_DETECTED: EventType
DRIFT_HEALED: EventType
SYNC_STARTED: EventType
SYNC_SUCCEEDED: EventType
SYNC_FAILED: EventType
HOOK_RESULT: EventType
SYNC_LOOP: EventType
HEALTH_CHANGED: EventType
OUTBOX_GAP: EventType
DESIRED_STATE_APPLIED: EventType
GOODBYE_REASON_UNSPECIFIED: GoodbyeReason
FENCED: GoodbyeReason
REVOKED: GoodbyeReason
UNSUPPORTED_PROTOCOL: GoodbyeReason
IDENTITY_MISMATCH: GoodbyeReason
SHUTTING_DOWN: GoodbyeReason
PROTOCOL_ERROR: GoodbyeReason

class ProtocolVersion(_message.Message):
    __slots__ = ("major", "minor")
    MAJOR_FIELD_NUMBER: _ClassVar[int]
    MINOR_FIELD_NUMBER: _ClassVar[int]
    major: int
    minor: int
    def __init__(self, major: _Optional[int] = ..., minor: _Optional[int] = ...) -> None: ...

class AgentMessage(_message.Message):
    __slots__ = ("hello", "status", "event", "desired_state_ack", "heartbeat", "events")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DESIRED_STATE_ACK_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    status: StatusReport
    event: Event
    desired_state_ack: DesiredStateAck
    heartbeat: Heartbeat
    events: EventBatch
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., status: _Optional[_Union[StatusReport, _Mapping]] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., desired_state_ack: _Optional[_Union[DesiredStateAck, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., events: _Optional[_Union[EventBatch, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("cluster", "region", "agent_version", "protocol", "applied_generation", "applied_hash", "capabilities", "next_event_sequence")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    APPLIED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    APPLIED_HASH_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    cluster: str
    region: str
    agent_version: str
    protocol: ProtocolVersion
    applied_generation: int
    applied_hash: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    next_event_sequence: int
    def __init__(self, cluster: _Optional[str] = ..., region: _Optional[str] = ..., agent_version: _Optional[str] = ..., protocol: _Optional[_Union[ProtocolVersion, _Mapping]] = ..., applied_generation: _Optional[int] = ..., applied_hash: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., next_event_sequence: _Optional[int] = ...) -> None: ...

class StatusReport(_message.Message):
    __slots__ = ("generation", "observed_at_ms", "applications")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    generation: int
    observed_at_ms: int
    applications: _containers.RepeatedCompositeFieldContainer[ApplicationStatus]
    def __init__(self, generation: _Optional[int] = ..., observed_at_ms: _Optional[int] = ..., applications: _Optional[_Iterable[_Union[ApplicationStatus, _Mapping]]] = ...) -> None: ...

class ApplicationStatus(_message.Message):
    __slots__ = ("name", "revision", "sync_status", "health", "message", "drift", "resources", "operation_phase")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SYNC_STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DRIFT_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    OPERATION_PHASE_FIELD_NUMBER: _ClassVar[int]
    name: str
    revision: str
    sync_status: str
    health: str
    message: str
    drift: DriftSummary
    resources: _containers.RepeatedCompositeFieldContainer[ResourceStatus]
    operation_phase: str
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[str] = ..., sync_status: _Optional[str] = ..., health: _Optional[str] = ..., message: _Optional[str] = ..., drift: _Optional[_Union[DriftSummary, _Mapping]] = ..., resources: _Optional[_Iterable[_Union[ResourceStatus, _Mapping]]] = ..., operation_phase: _Optional[str] = ...) -> None: ...

class ResourceStatus(_message.Message):
    __slots__ = ("group", "version", "kind", "namespace", "name", "sync_status", "health", "message", "sync_wave")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SYNC_STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SYNC_WAVE_FIELD_NUMBER: _ClassVar[int]
    group: str
    version: str
    kind: str
    namespace: str
    name: str
    sync_status: str
    health: str
    message: str
    sync_wave: int
    def __init__(self, group: _Optional[str] = ..., version: _Optional[str] = ..., kind: _Optional[str] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ..., sync_status: _Optional[str] = ..., health: _Optional[str] = ..., message: _Optional[str] = ..., sync_wave: _Optional[int] = ...) -> None: ...

class DriftSummary(_message.Message):
    __slots__ = ("drifted_resources", "drifted_fields", "fields")
    DRIFTED_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DRIFTED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    drifted_resources: int
    drifted_fields: int
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, drifted_resources: _Optional[int] = ..., drifted_fields: _Optional[int] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("sequence", "occurred_at_ms", "type", "application", "resource", "message", "generation", "revision", "details_json")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    occurred_at_ms: int
    type: EventType
    application: str
    resource: str
    message: str
    generation: int
    revision: str
    details_json: str
    def __init__(self, sequence: _Optional[int] = ..., occurred_at_ms: _Optional[int] = ..., type: _Optional[_Union[EventType, str]] = ..., application: _Optional[str] = ..., resource: _Optional[str] = ..., message: _Optional[str] = ..., generation: _Optional[int] = ..., revision: _Optional[str] = ..., details_json: _Optional[str] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class DesiredStateAck(_message.Message):
    __slots__ = ("generation", "content_hash")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    generation: int
    content_hash: str
    def __init__(self, generation: _Optional[int] = ..., content_hash: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("sent_at_ms",)
    SENT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    sent_at_ms: int
    def __init__(self, sent_at_ms: _Optional[int] = ...) -> None: ...

class HubMessage(_message.Message):
    __slots__ = ("welcome", "desired_state", "sync_request", "event_ack", "heartbeat", "goodbye")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    DESIRED_STATE_FIELD_NUMBER: _ClassVar[int]
    SYNC_REQUEST_FIELD_NUMBER: _ClassVar[int]
    EVENT_ACK_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    GOODBYE_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    desired_state: DesiredStateChunk
    sync_request: SyncRequest
    event_ack: EventAck
    heartbeat: Heartbeat
    goodbye: Goodbye
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., desired_state: _Optional[_Union[DesiredStateChunk, _Mapping]] = ..., sync_request: _Optional[_Union[SyncRequest, _Mapping]] = ..., event_ack: _Optional[_Union[EventAck, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., goodbye: _Optional[_Union[Goodbye, _Mapping]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("session_id", "heartbeat_interval_ms", "hub_version", "protocol", "max_message_bytes", "acked_event_sequence", "capabilities")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    HUB_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ACKED_EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    heartbeat_interval_ms: int
    hub_version: str
    protocol: ProtocolVersion
    max_message_bytes: int
    acked_event_sequence: int
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, session_id: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ..., hub_version: _Optional[str] = ..., protocol: _Optional[_Union[ProtocolVersion, _Mapping]] = ..., max_message_bytes: _Optional[int] = ..., acked_event_sequence: _Optional[int] = ..., capabilities: _Optional[_Iterable[str]] = ...) -> None: ...

class DesiredStateChunk(_message.Message):
    __slots__ = ("generation", "content_hash", "chunk_index", "chunk_count", "data")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    generation: int
    content_hash: str
    chunk_index: int
    chunk_count: int
    data: bytes
    def __init__(self, generation: _Optional[int] = ..., content_hash: _Optional[str] = ..., chunk_index: _Optional[int] = ..., chunk_count: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class DesiredState(_message.Message):
    __slots__ = ("cluster", "generation", "revision", "content_hash", "applications")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    cluster: str
    generation: int
    revision: str
    content_hash: str
    applications: _containers.RepeatedCompositeFieldContainer[ApplicationBundle]
    def __init__(self, cluster: _Optional[str] = ..., generation: _Optional[int] = ..., revision: _Optional[str] = ..., content_hash: _Optional[str] = ..., applications: _Optional[_Iterable[_Union[ApplicationBundle, _Mapping]]] = ...) -> None: ...

class ApplicationBundle(_message.Message):
    __slots__ = ("name", "namespace", "revision", "manifests_json", "sync_policy", "ignore_differences", "content_hash", "manual")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    MANIFESTS_JSON_FIELD_NUMBER: _ClassVar[int]
    SYNC_POLICY_FIELD_NUMBER: _ClassVar[int]
    IGNORE_DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    revision: str
    manifests_json: _containers.RepeatedScalarFieldContainer[str]
    sync_policy: SyncPolicy
    ignore_differences: _containers.RepeatedCompositeFieldContainer[IgnoreDifference]
    content_hash: str
    manual: bool
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ..., revision: _Optional[str] = ..., manifests_json: _Optional[_Iterable[str]] = ..., sync_policy: _Optional[_Union[SyncPolicy, _Mapping]] = ..., ignore_differences: _Optional[_Iterable[_Union[IgnoreDifference, _Mapping]]] = ..., content_hash: _Optional[str] = ..., manual: _Optional[bool] = ...) -> None: ...

class SyncPolicy(_message.Message):
    __slots__ = ("automated", "sync_options", "retry")
    AUTOMATED_FIELD_NUMBER: _ClassVar[int]
    SYNC_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    automated: Automated
    sync_options: _containers.RepeatedScalarFieldContainer[str]
    retry: Retry
    def __init__(self, automated: _Optional[_Union[Automated, _Mapping]] = ..., sync_options: _Optional[_Iterable[str]] = ..., retry: _Optional[_Union[Retry, _Mapping]] = ...) -> None: ...

class Automated(_message.Message):
    __slots__ = ("prune", "self_heal", "allow_empty")
    PRUNE_FIELD_NUMBER: _ClassVar[int]
    SELF_HEAL_FIELD_NUMBER: _ClassVar[int]
    ALLOW_EMPTY_FIELD_NUMBER: _ClassVar[int]
    prune: bool
    self_heal: bool
    allow_empty: bool
    def __init__(self, prune: _Optional[bool] = ..., self_heal: _Optional[bool] = ..., allow_empty: _Optional[bool] = ...) -> None: ...

class Retry(_message.Message):
    __slots__ = ("limit", "backoff")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_FIELD_NUMBER: _ClassVar[int]
    limit: int
    backoff: Backoff
    def __init__(self, limit: _Optional[int] = ..., backoff: _Optional[_Union[Backoff, _Mapping]] = ...) -> None: ...

class Backoff(_message.Message):
    __slots__ = ("duration", "factor", "max_duration")
    DURATION_FIELD_NUMBER: _ClassVar[int]
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_FIELD_NUMBER: _ClassVar[int]
    duration: str
    factor: int
    max_duration: str
    def __init__(self, duration: _Optional[str] = ..., factor: _Optional[int] = ..., max_duration: _Optional[str] = ...) -> None: ...

class IgnoreDifference(_message.Message):
    __slots__ = ("group", "kind", "name", "namespace", "json_pointers", "jq_path_expressions", "managed_fields_managers")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    JSON_POINTERS_FIELD_NUMBER: _ClassVar[int]
    JQ_PATH_EXPRESSIONS_FIELD_NUMBER: _ClassVar[int]
    MANAGED_FIELDS_MANAGERS_FIELD_NUMBER: _ClassVar[int]
    group: str
    kind: str
    name: str
    namespace: str
    json_pointers: _containers.RepeatedScalarFieldContainer[str]
    jq_path_expressions: _containers.RepeatedScalarFieldContainer[str]
    managed_fields_managers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, group: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ..., json_pointers: _Optional[_Iterable[str]] = ..., jq_path_expressions: _Optional[_Iterable[str]] = ..., managed_fields_managers: _Optional[_Iterable[str]] = ...) -> None: ...

class SyncRequest(_message.Message):
    __slots__ = ("request_id", "application", "revision", "approved_by", "prune")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    PRUNE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    application: str
    revision: str
    approved_by: str
    prune: bool
    def __init__(self, request_id: _Optional[str] = ..., application: _Optional[str] = ..., revision: _Optional[str] = ..., approved_by: _Optional[str] = ..., prune: _Optional[bool] = ...) -> None: ...

class EventAck(_message.Message):
    __slots__ = ("sequence",)
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ...) -> None: ...

class Goodbye(_message.Message):
    __slots__ = ("reason", "message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: GoodbyeReason
    message: str
    def __init__(self, reason: _Optional[_Union[GoodbyeReason, str]] = ..., message: _Optional[str] = ...) -> None: ...
