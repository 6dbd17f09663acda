"""Approvals: per (environment, application, revision), per distinct approver, persisted, corrupt files set aside."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.gates import ApprovalBook

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
REV_A = "a" * 40
REV_B = "b" * 40


def test_approvals_count_per_distinct_approver(tmp_path: Path) -> None:
    book = ApprovalBook(tmp_path / "approvals.json")
    first = book.approve("production", "inference", REV_A, "alice", NOW, required=2)
    assert (first.approvers, first.required, first.satisfied, first.missing) == (["alice"], 2, False, 1)
    again = book.approve("production", "inference", REV_A, " Alice ", NOW + timedelta(minutes=1), required=2)
    assert (again.approvers, again.satisfied) == (["alice"], False)
    second = book.approve("production", "inference", REV_A, "bob", NOW + timedelta(minutes=2), required=2)
    assert (second.approvers, second.satisfied, second.missing) == (["alice", "bob"], True, 0)
    assert [approval.at for approval in second.approvals] == [NOW, NOW + timedelta(minutes=2)]


def test_an_empty_approver_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    book = ApprovalBook(tmp_path / "approvals.json")
    for nobody in ("", "   "):
        with pytest.raises(ValueError, match="the approver is empty"):
            book.approve("production", "inference", REV_A, nobody, NOW, required=1)
    with pytest.raises(ValueError, match="line break"):
        book.approve("production", "inference", REV_A, "alice\nbob", NOW)
    with pytest.raises(ValueError, match="non-empty revision"):
        book.approve("production", "inference", "", "alice", NOW)
    with pytest.raises(ValueError, match="no time zone"):
        book.approve("production", "inference", REV_A, "alice", datetime(2026, 12, 1))
    assert book.state("production", "inference", REV_A, 1).approvers == []
    assert not (tmp_path / "approvals.json").exists()


def test_a_newer_revision_needs_approvals_of_its_own(tmp_path: Path) -> None:
    book = ApprovalBook(tmp_path / "approvals.json")
    book.approve("production", "inference", REV_A, "alice", NOW)
    assert book.state("production", "inference", REV_A, required=1).satisfied
    fresh = book.state("production", "inference", REV_B, required=1)
    assert (fresh.approvers, fresh.satisfied) == ([], False)


def test_approvals_are_per_environment_and_application(tmp_path: Path) -> None:
    book = ApprovalBook(tmp_path / "approvals.json")
    book.approve("production", "inference", REV_A, "alice", NOW)
    assert book.state("staging", "inference", REV_A, 1).approvers == []
    assert book.state("production", "registry", REV_A, 1).approvers == []


def test_no_required_approvals_is_always_satisfied(tmp_path: Path) -> None:
    assert ApprovalBook(tmp_path / "approvals.json").state("production", "inference", REV_A).satisfied


def test_approvals_survive_a_new_book_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "hub" / "approvals.json"
    book = ApprovalBook(path)
    book.approve("production", "inference", REV_A, "alice", NOW)
    book.approve("production", "inference", REV_A, "bob", NOW + timedelta(minutes=5))
    reopened = ApprovalBook(path)
    state = reopened.state("production", "inference", REV_A, required=2)
    assert (state.approvers, state.satisfied) == (["alice", "bob"], True)
    assert state.approvals[1].at == NOW + timedelta(minutes=5)
    assert reopened.approve("production", "inference", REV_A, "ALICE", NOW, required=3).approvers == ["alice", "bob"]
    document = json.loads(path.read_text())
    assert document["version"] == 1
    assert document["approvals"]["production"]["inference"][REV_A][0] == {"approver": "alice",
                                                                          "at": "2026-12-01T09:30:00+00:00"}
    assert not [leftover for leftover in path.parent.iterdir() if leftover.name != "approvals.json"]


def test_last_approved_is_the_revision_that_most_recently_got_enough_approvals(tmp_path: Path) -> None:
    book = ApprovalBook(tmp_path / "approvals.json")
    assert book.last_approved("production", "inference", required=2) is None
    book.approve("production", "inference", REV_A, "alice", NOW)
    book.approve("production", "inference", REV_A, "bob", NOW + timedelta(hours=1))
    book.approve("production", "inference", REV_B, "carol", NOW + timedelta(hours=2))
    assert book.last_approved("production", "inference", required=2) == REV_A
    book.approve("production", "inference", REV_B, "dave", NOW + timedelta(hours=3))
    book.approve("production", "inference", REV_A, "erin", NOW + timedelta(hours=4))  # a late third approval
    assert book.last_approved("production", "inference", required=2) == REV_B
    assert book.last_approved("production", "inference", required=3) == REV_A
    assert ApprovalBook(tmp_path / "approvals.json").last_approved("production", "inference", 2) == REV_B


def test_superseded_revisions_are_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "approvals.json"
    book = ApprovalBook(path)
    for index, revision in enumerate(("1" * 40, "2" * 40, REV_A, REV_B)):
        book.approve("production", "inference", revision, "alice", NOW + timedelta(hours=index))
    book.approve("production", "registry", "1" * 40, "alice", NOW)
    assert book.forget_superseded("production", "inference", keep=[REV_A, REV_B]) == 2
    assert book.revisions("production", "inference") == [REV_A, REV_B]
    assert book.revisions("production", "registry") == ["1" * 40]
    assert ApprovalBook(path).revisions("production", "inference") == [REV_A, REV_B]
    assert book.forget_superseded("production", "inference", keep=[]) == 2
    assert "inference" not in json.loads(path.read_text())["approvals"]["production"]
    assert book.forget_superseded("staging", "inference", keep=[]) == 0


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe", b"[]", b'{"version": 2, "approvals": {}}',
    b'{"version": 1, "approvals": {"production": {"inference": {"abc": [{"approver": ""}]}}}}',
    b'{"version": 1, "approvals": {"production": {"inference": {"abc": [{"approver": "a", "at": "noon"}]}}}}',
])
def test_a_corrupt_file_is_set_aside_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                    content: bytes) -> None:
    path = tmp_path / "approvals.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="hub.gates.approvals"):
        book = ApprovalBook(path)
    assert "event=approvals_file_corrupt" in caplog.text and "approvals.json.corrupt" in caplog.text
    assert (tmp_path / "approvals.json.corrupt").read_bytes() == content
    assert not path.exists()
    assert book.approve("production", "inference", REV_A, "alice", NOW, required=1).satisfied
    assert ApprovalBook(path).state("production", "inference", REV_A, 1).approvers == ["alice"]


def test_a_second_corrupt_file_does_not_overwrite_the_first_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "approvals.json"
    path.write_text("first")
    ApprovalBook(path)
    path.write_text("second")
    ApprovalBook(path)
    assert (tmp_path / "approvals.json.corrupt").read_text() == "first"
    assert (tmp_path / "approvals.json.corrupt.1").read_text() == "second"


def test_a_failed_write_leaves_the_book_as_the_file_says(tmp_path: Path) -> None:
    book = ApprovalBook(tmp_path / "state" / "approvals.json")
    (tmp_path / "state").write_text("a file where the book's directory should be")
    with pytest.raises(OSError):
        book.approve("production", "inference", REV_A, "alice", NOW)
    assert book.state("production", "inference", REV_A, 1).approvers == []
