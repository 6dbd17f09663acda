"""One application on one cluster: when to sync, what drifted, what to heal, and what to report.

An `AppController` holds an application's bundle (from the hub's desired state) and its live objects (an
`Inventory`, fed by watches). It decides:

- **sync**: an automated application syncs once per (revision, content hash), retried with the application's
  backoff after a failure; a manual one (`bundle.manual`, or no `syncPolicy.automated`) waits for a
  SyncRequest and meanwhile reports OutOfSync with its diff. A sync is one `SyncEngine.run`; its result goes
  out as SYNC_STARTED, HOOK_RESULT per hook, SYNC_SUCCEEDED or SYNC_FAILED events. What was synced is
  persisted (`SyncMarks`), so an agent restart does not sync again, it checks for drift;
- **drift**: every change a watch delivers is diffed at once against Git (declared fields, ignoreDifferences);
  a new or changed difference is a DRIFT_DETECTED event naming each field, the desired and live values and
  the field manager that wrote it; when the object matches again, DRIFT_HEALED says after how long;
- **self-heal** (automated with selfHeal): the drifted object is re-applied (server-side, forcing conflicts)
  after Argo CD's per-object backoff (0 s, then 2, 6, 18, ... capped at 300 s; reset once it stayed in sync
  for a minute); a deleted object is re-created. Without selfHeal, drift is reported and left alone;
- **sync loops**: each revert is counted per (object, field, other manager); past the threshold within the
  window the controller stops reverting that field (it is ignored from then on, as if fleet.yaml said so),
  puts a SyncLoop condition in the status and sends SYNC_LOOP with the ignoreDifferences entry to add.

Status (`status()`): per resource sync status, health and wave; the application's sync status, health (the
worst), drift summary, operation phase and a message. Diffs are cached per live resourceVersion.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.cluster import ClusterAccess, ClusterError, InvalidObject, UnknownKind
from agent.diff import FieldDiff, IgnoreRule, ObjectDiff, diff_object, suggest_ignore, without_ignored
from agent.drift import Inventory, SyncLoop, SyncLoopDetector, object_key
from agent.drift.inventory import Key
from agent.health import Health, HealthStatus, application_health
from agent.reconcile.livehealth import LiveHealth
from agent.reconcile.marks import SyncMarks
from agent.reconcile.metrics import ReconcileMetrics
from agent.sync import RetryPolicy, SyncPlanError, app_options, hook_of, self_heal_delay, wave_of
from agent.sync.engine import HOOK, SyncEngine, SyncResult, SyncSpec
from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION, tracking_id
from fleetline.wire import fleet_pb2

log = logging.getLogger(__name__)

HEAL_RESET_SECONDS = 60.0  # an object in sync this long starts its self-heal backoff from 0 again
MAX_DRIFT_FIELDS = 20  # fields per drift event (the rest are counted)


@dataclass
class Settings:
    """Tunables of every application's controller (flags of `fleetline agent`)."""

    wave_timeout: float = 300.0
    gpu_grace_seconds: float = 600.0
    loop_threshold: int = 3
    loop_window: float = 600.0
    heal_backoff_base: float = 2.0  # self-heal backoff per object: 0, base, base*factor, ... capped
    heal_backoff_factor: float = 3.0
    heal_backoff_cap: float = 300.0

    def __post_init__(self) -> None:
        problems = [f"{name} must be above 0 (got {value})" for name, value in (
            ("--wave-timeout", self.wave_timeout), ("--sync-loop-window", self.loop_window),
            ("--self-heal-backoff CAP", self.heal_backoff_cap)) if value <= 0]
        if self.loop_threshold < 1:
            problems.append(f"--sync-loop-threshold must be 1 or more (got {self.loop_threshold})")
        if self.gpu_grace_seconds < 0 or self.heal_backoff_base < 0 or self.heal_backoff_factor < 1:
            problems.append("--gpu-grace and the self-heal backoff BASE must not be negative, FACTOR at least 1")
        if problems:
            raise ValueError("; ".join(problems))

    def heal_delay(self, attempt: int) -> float:
        return self_heal_delay(attempt, self.heal_backoff_base, self.heal_backoff_factor, self.heal_backoff_cap)


@dataclass
class _Drift:
    since: float  # time.time() when first seen
    signature: tuple
    healed_by_us: bool = False


@dataclass
class _Desired:
    """The parsed bundle."""

    bundle: fleet_pb2.ApplicationBundle
    revision: str
    objects: list[dict]
    by_key: dict[Key, dict]
    rules: list[IgnoreRule]
    automated: bool
    self_heal: bool
    prune: bool
    allow_empty: bool
    respect_ignore: bool
    retry: RetryPolicy
    problems: list[str] = field(default_factory=list)

    @property
    def mark(self) -> str:
        return f"{self.revision}|{self.bundle.content_hash}"


def parse_bundle(bundle: fleet_pb2.ApplicationBundle, revision: str) -> _Desired:
    """The bundle's manifests and policies; problems (a bad manifest, a bad rule) are collected, not raised."""
    problems: list[str] = []
    objects: list[dict] = []
    for index, text in enumerate(bundle.manifests_json):
        try:
            obj = json.loads(text)
        except ValueError as exc:
            problems.append(f"manifest {index} of application {bundle.name} is not JSON: {exc}")
            continue
        if not isinstance(obj, dict):
            problems.append(f"manifest {index} of application {bundle.name} is not an object")
            continue
        objects.append(_owned(bundle.name, obj))
    rules: list[IgnoreRule] = []
    for entry in bundle.ignore_differences:
        try:
            rules.append(IgnoreRule.from_proto(entry))
        except ValueError as exc:
            problems.append(f"application {bundle.name}: ignoreDifferences: {exc}")
    policy = bundle.sync_policy
    automated = policy.HasField("automated") and not bundle.manual
    try:
        options, _ = app_options(list(policy.sync_options))
        respect_ignore = options.respect_ignore_differences
    except SyncPlanError as exc:
        problems.append(str(exc))
        respect_ignore = False
    try:
        retry = RetryPolicy.from_wire(policy)
    except ValueError as exc:
        problems.append(f"application {bundle.name}: {exc}")
        retry = RetryPolicy()
    kept = fleet_pb2.ApplicationBundle()
    kept.CopyFrom(bundle)
    kept.ClearField("manifests_json")  # parsed into `objects`; the text would be a second copy of every manifest
    return _Desired(bundle=kept, revision=bundle.revision or revision, objects=objects,
                    by_key={object_key(o): o for o in objects}, rules=rules, automated=automated,
                    # a manual gate holds back new revisions only: self-heal keeps enforcing what was synced
                    self_heal=policy.HasField("automated") and policy.automated.self_heal,
                    prune=policy.HasField("automated") and policy.automated.prune,
                    allow_empty=policy.automated.allow_empty, respect_ignore=respect_ignore, retry=retry,
                    problems=problems)


def _owned(app: str, obj: dict) -> dict:
    """The object with the application's label and tracking annotation (the hub stamps them; an object that
    arrives without them gets them here, since the agent finds and prunes its objects by them)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return obj
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    if labels.get(APP_LABEL) != app:
        meta["labels"] = {**labels, APP_LABEL: app}
    if TRACKING_ANNOTATION not in annotations:
        meta["annotations"] = {**annotations, TRACKING_ANNOTATION: tracking_id(app, obj)}
    return obj


def describe(key: Key) -> str:
    group, kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _field_dict(f: FieldDiff) -> dict:
    return {"path": f.path, "desired": f.desired, "live": f.live, "manager": f.manager}


class AppController:
    """See the module docstring. Created by the Reconciler, fed with `update()` and `sync_request()`."""

    def __init__(self, name: str, access: ClusterAccess, live_health: LiveHealth, marks: SyncMarks,
                 emit: Callable[[fleet_pb2.Event], None], changed: Callable[[], None], metrics: ReconcileMetrics,
                 settings: Settings) -> None:
        self.name = name
        self.access = access
        self.live_health = live_health
        self.marks = marks
        self.emit_event = emit
        self.changed = changed
        self.metrics = metrics
        self.settings = settings
        self.inventory = Inventory(access, name, on_change=self._on_live_change)
        self.engine = SyncEngine(access, live_health, wave_timeout=settings.wave_timeout,
                                 live_view=lambda obj: self.inventory.get(object_key(obj)))
        self.loops = SyncLoopDetector(settings.loop_threshold, settings.loop_window)
        self.desired: _Desired | None = None
        saved = marks.load_bundle(name)  # what was synced last (enforced while a newer revision waits)
        self.synced: _Desired | None = parse_bundle(saved, saved.revision) if saved is not None else None
        self.generation = 0
        self.loop_rules: list[IgnoreRule] = []
        self.conditions: list[str] = []
        self.last_result: SyncResult | None = None
        self.operation_phase = ""
        self._drift: dict[Key, _Drift] = {}
        self._diffs: dict[Key, tuple[str, ObjectDiff]] = {}
        self._heal_attempts: dict[Key, tuple[int, float]] = {}  # attempts, time.monotonic() of the last one
        self._heals: dict[Key, asyncio.Task[None]] = {}
        self._pending: tuple[str, fleet_pb2.SyncRequest | None] | None = None  # (trigger, request)
        self._retry_task: asyncio.Task[None] | None = None
        self._retries = 0
        self._wake = asyncio.Event()
        self._syncing = False
        self.status_dirty = True
        self.synced_generation = 0  # the generation this process last synced successfully
        self._status: fleet_pb2.ApplicationStatus | None = None
        self._task = asyncio.create_task(self._run())

    def _touch(self) -> None:
        """Something this application reports changed: its status is built again at the next report."""
        self.status_dirty = True
        self.changed()

    @property
    def namespaces(self) -> set[str]:
        return {key[2] for key in self.desired.by_key} if self.desired is not None else set()

    # ---- inputs ---------------------------------------------------------------------------------------------

    async def update(self, bundle: fleet_pb2.ApplicationBundle, generation: int, revision: str) -> None:
        """A new desired state for this application (possibly unchanged)."""
        desired = parse_bundle(bundle, revision)
        previous = self.desired
        self.desired, self.generation = desired, generation
        if previous is None or previous.mark != desired.mark:
            self._diffs.clear()
            for key in set(self._drift) - set(desired.by_key):
                self._drift.pop(key, None)
            self.loops = SyncLoopDetector(self.settings.loop_threshold, self.settings.loop_window)
            self.loop_rules = []
            self.conditions = [c for c in self.conditions if not c.startswith("SyncLoop")]
            self._cancel_retry()
            self._retries = 0
        for problem in desired.problems:
            log.error("event=bundle_problem app=%s problem=%r", self.name, problem)
        await self._track(desired)
        if desired.automated and self.marks.get(self.name) != desired.mark:
            self._request("automated", None)
        else:
            self._check_all()
        self._touch()

    async def _track(self, desired: _Desired) -> None:
        """Watch every kind of the desired state (a kind whose CRD is not installed yet is tried again after
        the next sync, which may install it)."""
        kinds = {(str(o.get("apiVersion", "")), str(o.get("kind", ""))) for o in desired.objects}
        for problem in await self.inventory.track(kinds):
            log.warning("event=watch_failed app=%s problem=%r", self.name, problem)

    async def sync_request(self, request: fleet_pb2.SyncRequest) -> None:
        """A manual sync or an approval from the hub."""
        desired = self.desired
        if desired is None:
            self._emit(fleet_pb2.SYNC_FAILED, "no desired state for this application yet",
                       {"request_id": request.request_id})
            return
        if request.revision and request.revision != desired.revision:
            self._emit(fleet_pb2.SYNC_FAILED, f"sync request for revision {request.revision} refused: the desired "
                       f"state holds revision {desired.revision}", {"request_id": request.request_id,
                                                                   "approved_by": request.approved_by})
            return
        self._request("request", request)

    def _request(self, trigger: str, request: fleet_pb2.SyncRequest | None) -> None:
        self._pending = (trigger, request)
        self._wake.set()

    # ---- the sync loop ---------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._pending is None or self.desired is None:
                continue
            trigger, request = self._pending
            self._pending = None
            try:
                await self._sync(trigger, request)
            except Exception:  # a bug in one sync must not stop the application's controller
                log.exception("event=sync_crashed app=%s", self.name)
                self.operation_phase = "Error"
                self._touch()

    async def _sync(self, trigger: str, request: fleet_pb2.SyncRequest | None) -> None:
        desired = self.desired
        assert desired is not None
        details: dict = {"trigger": trigger, "revision": desired.revision, "generation": self.generation}
        if request is not None:
            details.update(request_id=request.request_id, approved_by=request.approved_by)
        for task in self._heals.values():
            task.cancel()
        self._heals.clear()
        self._syncing = True
        self.operation_phase = "Running"
        self._touch()
        self._emit(fleet_pb2.SYNC_STARTED, f"sync of {self.name} at {desired.revision} started ({trigger})", details)
        started = time.monotonic()
        spec = SyncSpec(application=self.name, namespace=desired.bundle.namespace, revision=desired.revision,
                        desired=desired.objects, live=self.inventory.ours(),
                        sync_options=list(desired.bundle.sync_policy.sync_options), rules=desired.rules,
                        prune=desired.prune or (request is not None and request.prune),
                        allow_empty=desired.allow_empty)
        try:
            result = await self.engine.run(spec)
        finally:
            self._syncing = False
        self.metrics.sync_duration.observe(time.monotonic() - started)
        self.metrics.syncs.labels(result.phase, trigger).inc()
        self.last_result = result
        self.operation_phase = result.phase
        for obj in result.written:
            self.inventory.remember(obj)
        result.written = []  # the live view has them; the kept result must not hold thousands of objects
        for resource in result.resources:
            if resource.action == HOOK and resource.hook_phase:
                self._emit(fleet_pb2.HOOK_RESULT, f"{resource.phase} hook {resource}: {resource.hook_phase}",
                           {**details, "hook": resource.to_dict()}, resource=resource)
        outcome = {**details, "result": result.to_dict()}
        await self._track(desired)  # kinds whose CRD this sync installed
        if result.succeeded:
            self._retries = 0
            self.synced_generation = self.generation
            if desired is self.desired:
                self.marks.set(self.name, desired.mark)
                self.synced = desired
                self.marks.save_bundle(self.name, _full_bundle(desired))
            self._emit(fleet_pb2.SYNC_SUCCEEDED, result.message, outcome)
            self._drift.clear()
            self._diffs.clear()
        else:
            self._emit(fleet_pb2.SYNC_FAILED, result.message, outcome)
            self._schedule_retry(desired)
        log.info("event=sync_finished app=%s revision=%s result=%s message=%r", self.name, desired.revision,
                 result.phase, result.message)
        self._check_all()
        self._touch()

    def _schedule_retry(self, desired: _Desired) -> None:
        if not desired.automated and self._pending is None:
            return  # a manual sync is retried by asking again
        delays = list(_take(desired.retry.delays(), self._retries + 1))
        if len(delays) <= self._retries:
            log.warning("event=sync_retries_exhausted app=%s retries=%d", self.name, self._retries)
            return
        delay = delays[self._retries]
        self._retries += 1

        async def retry() -> None:
            await asyncio.sleep(delay)  # the application's retry backoff
            if self.desired is desired:
                self._request("retry", None)

        self._cancel_retry()
        self._retry_task = asyncio.create_task(retry())

    def _cancel_retry(self) -> None:
        if self._retry_task is not None:
            self._retry_task.cancel()
            self._retry_task = None

    # ---- drift --------------------------------------------------------------------------------------------------

    def _on_live_change(self, event_type: str, obj: dict) -> None:
        self.engine.notify()
        key = object_key(obj)
        baseline = self._baseline()
        if baseline is not None and key in baseline.by_key:
            self._check(key)
        self._touch()

    def full_check(self) -> None:
        """Diff every object afresh (the periodic safety net)."""
        self._diffs.clear()
        self._check_all()

    def _check_all(self) -> None:
        baseline = self._baseline()
        if baseline is not None:
            for key in baseline.by_key:
                self._check(key)

    def _baseline(self) -> _Desired | None:
        """What drift is judged against: the current desired state once it was synced, else the state synced
        last (a manual application whose newer revision waits for approval keeps being enforced at the
        revision approved last), else nothing."""
        mark = self.marks.get(self.name)
        if self.desired is not None and mark == self.desired.mark:
            return self.desired
        if self.desired is not None and self.desired.automated:
            return None  # its sync is under way or being retried: never pull it back to an older revision
        if self.synced is not None and mark == self.synced.mark:
            return self.synced
        return None

    def _rules_for(self, obj: dict, against: _Desired | None = None) -> list[IgnoreRule]:
        desired = against or self.desired
        rules = desired.rules if desired is not None else []
        return [r for r in [*rules, *self.loop_rules] if r.matches(obj)]

    def diff(self, key: Key, against: _Desired | None = None) -> ObjectDiff:
        """The declared-field diff of one object of `against` (default: the current desired state) against its
        live copy (cached per resourceVersion)."""
        against = against or self.desired
        assert against is not None
        desired_obj = against.by_key[key]
        live = self.inventory.get(key)
        version = ((live or {}).get("metadata") or {}).get("resourceVersion", "") if live is not None else "-"
        cache_key = (against.mark, key)
        cached = self._diffs.get(cache_key)
        if cached is not None and cached[0] == version:
            return cached[1]
        try:
            result = diff_object(desired_obj, live, rules=self._rules_for(desired_obj, against))
        except ValueError as exc:
            log.warning("event=diff_failed app=%s object=%s error=%r", self.name, describe(key), str(exc))
            result = ObjectDiff(fields=[], ignored=[])
        self._diffs[cache_key] = (version, result)
        return result

    def _check(self, key: Key) -> None:
        """Diff one object now; report drift that is new or changed, report a heal, start a self-heal."""
        desired = self._baseline()
        if desired is None or self._syncing or key not in desired.by_key:
            # Drift is a change from what was synced: with nothing synced yet (a first sync to come, or a manual
            # application never approved) the status says OutOfSync and there is no baseline.
            return
        if _hook_or_none(desired.by_key[key]):
            return  # hooks run in syncs (and may be deleted by their policy): never drift, never healed
        result = self.diff(key, desired)
        record = self._drift.get(key)
        if result.in_sync:
            if record is not None:
                del self._drift[key]
                healed_ms = round((time.time() - record.since) * 1000)
                how = "by self-heal" if record.healed_by_us else "by a change in the cluster"
                self.metrics.drift_events.labels("healed").inc()
                self._emit(fleet_pb2.DRIFT_HEALED, f"{describe(key)} matches Git again ({how}) after {healed_ms} ms",
                           {"object": describe(key), "healed_after_ms": healed_ms, "self_heal": record.healed_by_us},
                           key=key)
            return
        signature = tuple((f.path, json.dumps(f.live, sort_keys=True, default=str)) for f in result.fields)
        if record is None or record.signature != signature:
            if record is None:
                record = self._drift[key] = _Drift(time.time(), signature)
            record.signature = signature
            self.metrics.drift_events.labels("detected").inc()
            fields = [_field_dict(f) for f in result.fields[:MAX_DRIFT_FIELDS]]
            managers = sorted({f.manager for f in result.fields if f.manager})
            what = "missing (deleted)" if result.missing else ", ".join(f.path for f in result.fields[:3])
            by = f" (by {', '.join(managers)})" if managers else ""
            self._emit(fleet_pb2.DRIFT_DETECTED, f"{describe(key)} drifted from Git: {what}{by}",
                       {"object": describe(key), "missing": result.missing, "fields": fields,
                        "more_fields": max(0, len(result.fields) - MAX_DRIFT_FIELDS), "managers": managers,
                        "self_heal": desired.self_heal}, key=key)
        if desired.self_heal and key not in self._heals:
            self._heals[key] = asyncio.create_task(self._heal(key))

    async def _heal(self, key: Key) -> None:
        try:
            attempts, last = self._heal_attempts.get(key, (0, 0.0))
            if time.monotonic() - last > HEAL_RESET_SECONDS + self.settings.heal_delay(attempts):
                attempts = 0
            delay = self.settings.heal_delay(attempts)
            if delay:
                await asyncio.sleep(delay)  # Argo CD's self-heal backoff, per object
            self._heal_attempts[key] = (attempts + 1, time.monotonic())
            await self._heal_now(key)
        except asyncio.CancelledError:
            raise
        except (ClusterError, InvalidObject, UnknownKind) as exc:
            log.warning("event=self_heal_failed app=%s object=%s error=%r", self.name, describe(key), str(exc))
        finally:
            if self._heals.get(key) is asyncio.current_task():
                del self._heals[key]
        self._check(key)  # still drifted (a heal that failed, or changed back meanwhile): go again
        self._touch()

    async def _heal_now(self, key: Key) -> None:
        desired = self._baseline()
        if desired is None or key not in desired.by_key or self._syncing:
            return
        result = self.diff(key, desired)
        if result.in_sync:
            return
        obj = desired.by_key[key]
        live = self.inventory.get(key)
        for f in result.fields:
            if f.manager and f.manager != "fleetline":
                loop = self.loops.record(describe(key), f.path, f.manager)
                if loop is not None:
                    self._give_up(key, obj, f, loop)
        if self.loop_rules:
            self._diffs.pop((desired.mark, key), None)
            if self.diff(key, desired).in_sync:
                return
        rules = self._rules_for(obj, desired)
        body = obj
        if live is not None and (self.loop_rules or desired.respect_ignore) and rules:
            keep = rules if desired.respect_ignore else [r for r in rules if r in self.loop_rules]
            body = without_ignored(obj, live, keep) if keep else obj
        record = self._drift.get(key)
        if record is not None:
            record.healed_by_us = True  # before the write: its watch event may be handled before apply() returns
        started = time.monotonic()
        self.inventory.remember(await self.access.apply(body))
        self.metrics.apply_duration.observe(time.monotonic() - started)
        self.metrics.self_heals.inc()
        log.info("event=self_healed app=%s object=%s", self.name, describe(key))

    def _give_up(self, key: Key, obj: dict, f: FieldDiff, loop: SyncLoop) -> None:
        """Stop reverting one field another controller keeps changing; report it with the fix."""
        try:
            suggestion = suggest_ignore(obj, f, loop.manager)
            rule = IgnoreRule.from_dict(suggestion)
        except ValueError as exc:
            log.warning("event=sync_loop_unsuggestable app=%s object=%s field=%s error=%r", self.name, describe(key),
                        f.path, str(exc))
            return
        self.loop_rules.append(rule)
        self._diffs.clear()
        self.metrics.sync_loops.inc()
        snippet = {"ignoreDifferences": [suggestion]}
        condition = (f"SyncLoop: {loop.object} field {loop.field} was changed back by {loop.manager} "
                     f"{loop.reverts} times within {loop.window:g}s; no longer reverting it. Add to the "
                     f"application in fleet.yaml: {json.dumps(snippet)}")
        self.conditions.append(condition)
        self._touch()
        log.warning("event=sync_loop app=%s object=%s field=%s manager=%s reverts=%d", self.name, loop.object,
                    loop.field, loop.manager, loop.reverts)
        self._emit(fleet_pb2.SYNC_LOOP, condition,
                   {"object": loop.object, "field": loop.field, "manager": loop.manager, "reverts": loop.reverts,
                    "window_s": loop.window, "suggestion": suggestion, "fleet_yaml": snippet}, key=key)

    # ---- events and status ------------------------------------------------------------------------------------

    def _emit(self, event_type: int, message: str, details: dict, *, key: Key | None = None,
              resource: object = None) -> None:
        desired = self.desired
        resource_id = ""
        if key is not None and desired is not None and key in desired.by_key:
            annotations = (desired.by_key[key].get("metadata") or {}).get("annotations") or {}
            resource_id = annotations.get("fleetline.io/tracking-id", "")
        self.emit_event(fleet_pb2.Event(
            type=event_type, application=self.name, resource=resource_id, message=message,
            generation=self.generation, revision=desired.revision if desired is not None else "",
            details_json=json.dumps(details, default=str, sort_keys=True)))

    def status(self) -> fleet_pb2.ApplicationStatus:
        """The application's status, built again only when something changed since the last call."""
        if self._status is None or self.status_dirty:
            self.status_dirty = False
            self._status = self._build_status()
        return self._status

    def _build_status(self) -> fleet_pb2.ApplicationStatus:
        desired = self.desired
        status = fleet_pb2.ApplicationStatus(name=self.name, operation_phase=self.operation_phase)
        if desired is None:
            status.sync_status, status.health = "Unknown", "Unknown"
            return status
        status.revision = desired.revision
        healths: dict[str, Health | None] = {}
        drifted_resources = drifted_fields = 0
        drift_lines: list[str] = []
        out_of_sync = False
        for key, obj in desired.by_key.items():
            hook = _hook_or_none(obj)
            live = self.inventory.get(key)
            diff = self.diff(key) if not hook else None
            synced = "Synced" if diff is None or diff.in_sync else "OutOfSync"
            if live is None:
                health: Health | None = Health(HealthStatus.MISSING, "not found in the cluster")
            else:
                health = self.live_health.of(live)
            if not hook:
                healths[describe(key)] = health
            if diff is not None and not diff.in_sync:
                out_of_sync = True
                drifted_resources += 1
                drifted_fields += len(diff.fields)
                drift_lines += [f"{key[1]}/{key[2]}/{key[3]}: {f.path}" for f in diff.fields]
            try:
                wave = wave_of(obj)
            except SyncPlanError:
                wave = 0
            group, kind, namespace, name = key
            api_version = str(obj.get("apiVersion", ""))
            status.resources.add(group=group, version=api_version.rpartition("/")[2], kind=kind,
                                 namespace=namespace, name=name, sync_status=synced,
                                 health=health.status.value if health is not None else "",
                                 message=health.message if health is not None else "", sync_wave=wave)
        extraneous = [o for o in self.inventory.ours() if object_key(o) not in desired.by_key]
        if extraneous:
            out_of_sync = True
        app_health = application_health(healths)
        status.health = app_health.status.value
        status.sync_status = "OutOfSync" if out_of_sync else "Synced"
        status.drift.drifted_resources = drifted_resources
        status.drift.drifted_fields = drifted_fields
        status.drift.fields.extend(drift_lines[:10])
        status.message = self._message(desired, app_health, out_of_sync, extraneous)
        return status

    def _message(self, desired: _Desired, health: Health, out_of_sync: bool, extraneous: list[dict]) -> str:
        parts: list[str] = list(desired.problems[:3]) + list(self.conditions)
        if out_of_sync and not desired.automated:
            parts.append("OutOfSync: waiting for a sync request (manual sync)")
        if extraneous:
            parts.append(f"{len(extraneous)} object(s) no longer in Git"
                         + ("" if desired.prune else " (not pruned: pruning is off)"))
        if self.last_result is not None and not self.last_result.succeeded:
            parts.append(f"last sync failed: {self.last_result.message}")
        if health.message and health.status != HealthStatus.HEALTHY:
            parts.append(health.message)
        return "; ".join(parts)

    def is_synced(self) -> bool:
        """The current desired state was synced (marks) and nothing is drifted or pending."""
        desired = self.desired
        return (desired is not None and self.marks.get(self.name) == desired.mark and not self._syncing
                and self._pending is None)

    async def close(self) -> None:
        self._task.cancel()
        self._cancel_retry()
        for task in [self._task, *self._heals.values()]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.inventory.close()


def _full_bundle(desired: _Desired) -> fleet_pb2.ApplicationBundle:
    """The bundle with its manifests again (the kept one dropped their text), for saving."""
    full = fleet_pb2.ApplicationBundle()
    full.CopyFrom(desired.bundle)
    full.revision = desired.revision
    full.manifests_json.extend(json.dumps(obj, sort_keys=True) for obj in desired.objects)
    return full


def _hook_or_none(obj: dict) -> bool:
    try:
        hook = hook_of(obj)
    except SyncPlanError:
        return False
    return hook is not None


def _take(iterator, n: int) -> list:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) >= n:
            break
    return out


__all__ = ["AppController", "Settings", "parse_bundle"]
