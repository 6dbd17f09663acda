"""Watches against a live kubesim: events of a labelled object within a second, and restarts that lose nothing:
after the server ends the stream, after the connection drops, and after 410 Gone (as an ERROR event and as a
response), each with changes made while the watch was down. Faults kubesim does not produce on demand come
from a real HTTP proxy in front of it (tests/agent/cluster/proxy.py)."""

from __future__ import annotations

import asyncio

import pytest

from agent.cluster import ClusterAccess, ObjectRef, Watch, WatchEvent
from tests.agent.cluster.conftest import collect, configmap, eventually, next_event, proxied_configuration, summary
from tests.agent.cluster.proxy import Proxy
from tests.kubesim.conftest import ClusterThread

LABELS = {"fleetline.io/app": "demo"}
SELECTOR = "fleetline.io/app=demo"


def cm_ref(name: str) -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", "default", name)


async def test_watch_sees_added_modified_deleted_of_a_labelled_object(access: ClusterAccess) -> None:
    watch = access.watch("v1", "ConfigMap", namespace="default", label_selector=SELECTOR)
    await watch.start()
    await eventually(watch.synced.is_set, message="the initial list")
    await access.apply(configmap("unlabelled", {"a": "1"}))
    await access.apply(configmap("web", {"a": "1"}, labels=LABELS))
    added = await next_event(watch, timeout=1.0)  # the unlabelled one never shows up
    assert (added.type, added.object["metadata"]["name"], added.object["data"]) == ("ADDED", "web", {"a": "1"})
    assert added.object["kind"] == "ConfigMap"
    await access.apply(configmap("web", {"a": "2"}, labels=LABELS))
    modified = await next_event(watch, timeout=1.0)
    assert (modified.type, modified.object["data"]) == ("MODIFIED", {"a": "2"})
    await access.delete(cm_ref("web"))
    deleted = await next_event(watch, timeout=1.0)
    assert (deleted.type, deleted.object["metadata"]["name"]) == ("DELETED", "web")
    assert watch.restarts == 0
    await watch.aclose()
    with pytest.raises(StopAsyncIteration):
        await anext(watch)


async def test_watch_lists_first_with_added_for_every_object(access: ClusterAccess) -> None:
    for name in ("a", "b"):
        await access.apply(configmap(name, labels=LABELS))
    watch = access.watch("v1", "ConfigMap", label_selector=SELECTOR)  # all namespaces
    events = await collect(watch, lambda ev: len(ev) == 2)
    assert sorted(summary(events)) == [("ADDED", "a"), ("ADDED", "b")]
    assert all(e.object["apiVersion"] == "v1" and e.object["kind"] == "ConfigMap" for e in events)
    await asyncio.wait_for(watch.synced.wait(), 2.0)  # set right after the first list's events (same loop hop)


async def test_watch_resumes_after_the_server_ends_the_stream(sim: ClusterThread) -> None:
    # a one-second server-side timeout: kubesim itself ends every stream, as kube-apiserver does at timeoutSeconds
    async with ClusterAccess.from_kubeconfig(sim.kubeconfig_path, watch_timeout=1) as access:
        watch = access.watch("v1", "ConfigMap", namespace="default", label_selector=SELECTOR)
        await watch.start()
        await eventually(lambda: watch.restarts >= 1, timeout=5, message="the server to end the stream")
        await access.apply(configmap("after", labels=LABELS))
        event = await next_event(watch, timeout=3.0)
        assert (event.type, event.object["metadata"]["name"]) == ("ADDED", "after")
        await watch.aclose()


async def proxied(proxy: Proxy, sim: ClusterThread) -> ClusterAccess:
    access = ClusterAccess.from_configuration(proxied_configuration(proxy, sim))
    await access.start()
    return access


async def down_while_changing(proxy: Proxy, access: ClusterAccess, *, abort: bool) -> None:
    """End the open streams, keep the re-watch waiting at the proxy, and change the cluster meanwhile:
    modify a, delete b, create d (c untouched)."""
    await eventually(lambda: proxy.open_watches == 2, message="the CRD watch and ours to be streaming")
    proxy.hold_watches()
    proxy.end_watches(abort=abort)
    await eventually(lambda: proxy.held >= 2, message="the CRD watch and ours to come back to the proxy")
    await access.apply(configmap("a", {"v": "2"}, labels=LABELS))
    await access.delete(cm_ref("b"))
    await access.apply(configmap("d", labels=LABELS))


async def watch_abc(access: ClusterAccess) -> Watch:
    for name in ("a", "b", "c"):
        await access.apply(configmap(name, {"v": "1"}, labels=LABELS))
    watch = access.watch("v1", "ConfigMap", namespace="default", label_selector=SELECTOR)
    initial = await collect(watch, lambda ev: len(ev) == 3)
    assert sorted(summary(initial)) == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")]
    return watch


def changes(events: list[WatchEvent]) -> set[tuple[str, str]]:
    return set(summary(events))


EXPECTED = {("MODIFIED", "a"), ("DELETED", "b"), ("ADDED", "d")}


@pytest.mark.parametrize("abort", [False, True], ids=["stream-ended", "connection-dropped"])
async def test_rewatch_from_the_last_resource_version_delivers_what_happened_meanwhile(
        proxy: Proxy, sim: ClusterThread, abort: bool) -> None:
    access = await proxied(proxy, sim)
    try:
        watch = await watch_abc(access)
        lists_before = len(proxy.list_queries)
        await down_while_changing(proxy, access, abort=abort)
        proxy.release_watches()
        events = await collect(watch, lambda ev: changes(ev) >= EXPECTED)
        assert changes(events) == EXPECTED  # nothing about c, no duplicates
        modified = next(e for e in events if e.type == "MODIFIED")
        assert modified.object["data"] == {"v": "2"}
        assert watch.restarts == 1
        assert len(proxy.list_queries) == lists_before  # resumed from a resourceVersion, no re-list
        assert proxy.watch_queries[-1]["resourceVersion"] not in ("", "0")
        await access.apply(configmap("e", labels=LABELS))
        assert summary([await next_event(watch)]) == [("ADDED", "e")]
    finally:
        await access.close()


@pytest.mark.parametrize("as_response", [False, True], ids=["error-event", "410-response"])
async def test_410_gone_relists_and_delivers_only_what_changed(proxy: Proxy, sim: ClusterThread,
                                                               as_response: bool) -> None:
    access = await proxied(proxy, sim)
    try:
        watch = await watch_abc(access)
        await down_while_changing(proxy, access, abort=False)
        if as_response:
            proxy.gone_responses = 2  # both waiting watches (the CRD watch and ours) are told 410
        else:
            proxy.gone_events = 2
        lists_before = len(proxy.list_queries)
        proxy.release_watches()
        events = await collect(watch, lambda ev: changes(ev) >= EXPECTED)
        assert changes(events) == EXPECTED
        deleted = next(e for e in events if e.type == "DELETED")
        assert deleted.object["metadata"]["labels"] == LABELS  # the last-known metadata of the vanished object
        assert len(proxy.list_queries) > lists_before  # a fresh list
        assert watch.restarts == 2  # the stream end, then the 410
        await access.apply(configmap("e", labels=LABELS))
        assert summary([await next_event(watch)]) == [("ADDED", "e")]
    finally:
        await access.close()
