"""SourceWatcher: deliveries at start, on nudge and by polling; stale source with the last good revision kept and
recovery by itself; refs that stop resolving; failing callbacks; metrics; the backoff."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hub.source import GitMirror, SourceMetrics, SourceWatcher, retry_delay
from tests.hub.source.helpers import Remote, git, wait_until


class Recorder:
    """An on_revision callback that records (name, sha) and can be told to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.failures_left = 0

    async def __call__(self, name: str, sha: str) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("planner not ready")
        self.calls.append((name, sha))

    def saw(self, name: str, sha: str) -> Callable[[], bool]:
        return lambda: (name, sha) in self.calls


@pytest.fixture
async def watchers() -> AsyncIterator[list[SourceWatcher]]:
    started: list[SourceWatcher] = []
    yield started
    for watcher in started:
        await watcher.stop()


async def start(watchers: list[SourceWatcher], mirror: GitMirror, refs: dict[str, str], recorder: Recorder,
                **options: object) -> SourceWatcher:
    watcher = SourceWatcher(mirror, refs, recorder, **options)  # type: ignore[arg-type]
    watchers.append(watcher)
    await watcher.start()
    return watcher


def sample(watcher: SourceWatcher, name: str, labels: dict[str, str] | None = None) -> float | None:
    return watcher.metrics.registry.get_sample_value(name, labels or {})


async def test_each_ref_is_delivered_at_start_and_again_when_a_nudge_finds_it_moved(
        tmp_path: Path, remote: Remote, watchers: list[SourceWatcher]) -> None:
    remote.git("branch", "develop")
    first = remote.head()
    recorder = Recorder()
    watcher = await start(watchers, GitMirror(tmp_path / "data", str(remote.path)),
                          {"staging": "develop", "prod": "main"}, recorder, interval=600)
    await wait_until(lambda: len(recorder.calls) == 2, what="both refs delivered at start")
    assert sorted(recorder.calls) == [("prod", first), ("staging", first)]

    remote.git("checkout", "-q", "develop")
    second = remote.commit({"apps/web/deploy.yaml": "replicas: 3\n"}, "scale on develop")
    watcher.nudge()  # what the webhook does; the interval alone would take ten minutes
    await wait_until(recorder.saw("staging", second), what="staging moved")
    assert recorder.calls[2:] == [("staging", second)]  # prod still tracks main: nothing for it
    assert watcher.revisions == {"staging": second, "prod": first}
    assert sample(watcher, "fleetline_hub_source_revision_info",
                  {"name": "staging", "ref": "develop", "sha": second}) == 1
    assert sample(watcher, "fleetline_hub_source_revision_info",
                  {"name": "staging", "ref": "develop", "sha": first}) is None
    assert sample(watcher, "fleetline_hub_source_fetches_total", {"result": "success"}) >= 2
    assert sample(watcher, "fleetline_hub_source_fetch_seconds_count") >= 2
    assert sample(watcher, "fleetline_hub_source_stale") == 0


async def test_polling_alone_finds_new_commits(tmp_path: Path, remote: Remote,
                                               watchers: list[SourceWatcher]) -> None:
    recorder = Recorder()
    await start(watchers, GitMirror(tmp_path / "data", str(remote.path)), {"prod": "main"}, recorder,
                interval=0.05)
    await wait_until(lambda: len(recorder.calls) == 1)
    sha = remote.commit({"x": "1"}, "polled")
    await wait_until(recorder.saw("prod", sha), what="the polled commit")


async def test_an_unreachable_repository_keeps_the_last_good_revision_and_recovers_by_itself(
        tmp_path: Path, remote: Remote, watchers: list[SourceWatcher]) -> None:
    good = remote.head()
    recorder = Recorder()
    watcher = await start(watchers, GitMirror(tmp_path / "data", str(remote.path)), {"prod": "main"}, recorder,
                          interval=600, retry_initial=0.02, retry_max=0.1)
    await wait_until(recorder.saw("prod", good))

    away = tmp_path / "away"
    remote.path.rename(away)
    watcher.nudge()
    await wait_until(lambda: watcher.failures >= 2, what="failed fetches, retried without a nudge")
    status = watcher.status()
    assert watcher.stale and status.stale
    assert str(remote.path) in (status.last_error or "")
    assert status.refs[0].sha == good and watcher.revisions == {"prod": good}
    assert sample(watcher, "fleetline_hub_source_stale") == 1
    assert sample(watcher, "fleetline_hub_source_fetches_total", {"result": "failure"}) >= 2
    last_success = watcher.last_success_at

    git(away, "commit", "-q", "--allow-empty", "-m", "made while the host was down")
    meanwhile = git(away, "rev-parse", "HEAD")
    away.rename(remote.path)  # no nudge: the retries find it
    await wait_until(recorder.saw("prod", meanwhile), what="recovery")
    assert not watcher.stale and watcher.last_error is None and watcher.failures == 0
    assert watcher.last_success_at is not None and last_success is not None
    assert watcher.last_success_at > last_success
    assert sample(watcher, "fleetline_hub_source_stale") == 0
    assert recorder.calls == [("prod", good), ("prod", meanwhile)]


async def test_a_repository_unreachable_from_the_start_delivers_once_it_appears(
        tmp_path: Path, watchers: list[SourceWatcher]) -> None:
    recorder = Recorder()
    later = tmp_path / "later"
    watcher = await start(watchers, GitMirror(tmp_path / "data", str(later)), {"prod": "main"}, recorder,
                          interval=600, retry_initial=0.02, retry_max=0.05)
    await wait_until(lambda: watcher.stale)
    assert recorder.calls == [] and watcher.revisions == {}
    created = Remote(later)
    sha = created.commit({"a": "1"}, "first")
    await wait_until(recorder.saw("prod", sha))


async def test_a_ref_that_stops_resolving_keeps_its_last_good_commit(tmp_path: Path, remote: Remote,
                                                                     watchers: list[SourceWatcher]) -> None:
    remote.git("branch", "release")
    good = remote.head()
    recorder = Recorder()
    watcher = await start(watchers, GitMirror(tmp_path / "data", str(remote.path)),
                          {"prod": "release", "staging": "main"}, recorder, interval=600)
    await wait_until(lambda: len(recorder.calls) == 2)

    remote.git("branch", "-D", "release")
    fetches = sample(watcher, "fleetline_hub_source_fetches_total", {"result": "success"})
    watcher.nudge()
    await wait_until(lambda: watcher.status().refs[0].error is not None, what="the ref error")
    prod = watcher.status().refs[0]
    assert prod.name == "prod" and prod.sha == good and "ref 'release' not found" in (prod.error or "")
    assert not watcher.stale  # the repository answered; one ref is the problem
    assert sample(watcher, "fleetline_hub_source_ref_unresolved", {"name": "prod", "ref": "release"}) == 1
    assert sample(watcher, "fleetline_hub_source_fetches_total", {"result": "success"}) > fetches

    remote.git("branch", "release")
    moved = remote.commit({"b": "1"}, "on main")
    remote.git("branch", "-f", "release", moved)
    watcher.nudge()
    await wait_until(recorder.saw("prod", moved))
    assert watcher.status().refs[0].error is None
    assert sample(watcher, "fleetline_hub_source_ref_unresolved", {"name": "prod", "ref": "release"}) is None


async def test_a_failing_callback_is_called_again_for_the_same_commit(tmp_path: Path, remote: Remote,
                                                                      watchers: list[SourceWatcher],
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    recorder.failures_left = 1
    watcher = await start(watchers, GitMirror(tmp_path / "data", str(remote.path)), {"prod": "main"}, recorder,
                          interval=600)
    await wait_until(lambda: "source_revision_handler_failed" in caplog.text)
    assert recorder.calls == []
    watcher.nudge()
    await wait_until(recorder.saw("prod", remote.head()))


async def test_tracking_new_refs(tmp_path: Path, remote: Remote, watchers: list[SourceWatcher]) -> None:
    remote.git("tag", "v1")
    recorder = Recorder()
    watcher = await start(watchers, GitMirror(tmp_path / "data", str(remote.path)), {"prod": "main"}, recorder,
                          interval=600)
    await wait_until(lambda: len(recorder.calls) == 1)
    watcher.track({"prod": "main", "canary": "v1"})
    await wait_until(recorder.saw("canary", remote.head("v1")))
    watcher.track({"canary": "v1"})
    assert [ref.name for ref in watcher.status().refs] == ["canary"]
    assert sample(watcher, "fleetline_hub_source_revision_info",
                  {"name": "prod", "ref": "main", "sha": remote.head()}) is None


async def test_last_success_age_follows_the_injected_clock(tmp_path: Path, remote: Remote,
                                                           watchers: list[SourceWatcher]) -> None:
    now = [1000.0]
    recorder = Recorder()
    watcher = await start(watchers, GitMirror(tmp_path / "data", str(remote.path)), {"prod": "main"}, recorder,
                          interval=600, clock=lambda: now[0], metrics=SourceMetrics())
    assert sample(watcher, "fleetline_hub_source_last_success_age_seconds") == -1
    await wait_until(lambda: watcher.last_success_at is not None)
    assert watcher.last_success_at == 1000.0
    now[0] = 1042.5
    assert sample(watcher, "fleetline_hub_source_last_success_age_seconds") == 42.5


async def test_a_secret_in_the_url_never_reaches_the_status_or_the_log(tmp_path: Path,
                                                                       watchers: list[SourceWatcher],
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "tok-4f8a9c2e77d1"
    mirror = GitMirror(tmp_path / "data", f"https://deployer:{secret}@127.0.0.1:9/fleet.git", timeout=10)
    watcher = await start(watchers, mirror, {"prod": "main"}, Recorder(), interval=600, retry_initial=5)
    await wait_until(lambda: watcher.stale, timeout=15)
    assert "127.0.0.1" in (watcher.last_error or "")
    assert secret not in (watcher.last_error or "") and secret not in str(watcher.status())
    assert "source_fetch_failed" in caplog.text and secret not in caplog.text


def test_retry_delay_doubles_up_to_the_maximum() -> None:
    assert [retry_delay(n, 1.0, 60.0) for n in range(0, 9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert retry_delay(10_000, 0.5, 30.0) == 30.0


def test_bad_intervals_are_refused(tmp_path: Path, remote: Remote) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        SourceWatcher(GitMirror(tmp_path, str(remote.path)), {}, Recorder(), interval=0)
