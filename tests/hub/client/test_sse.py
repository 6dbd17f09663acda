"""Server-Sent Events parsing: named events, multi-line data, comments, ids (the last one is kept), CRLF,
chunks split anywhere."""

from __future__ import annotations

from hub.client.sse import SseEvent, SseParser, split_lines


def parse(text: str, chunk: int = 3) -> list[SseEvent]:
    parser, buffer, events = SseParser(), b"", []
    raw = text.encode()
    for start in range(0, len(raw), chunk):
        lines, buffer = split_lines(buffer, raw[start:start + chunk])
        events.extend(e for e in (parser.feed(line) for line in lines) if e is not None)
    return events


def test_named_events_multi_line_data_and_comments() -> None:
    text = (": keep-alive\n\nevent: status\ndata: {\"a\":\ndata: 1}\nid: 7\n\n"
            "data:plain\r\n\r\nevent: nothing\n\nevent: pipeline\ndata: {\"x\": \"é\"}\n\n")
    events = parse(text)
    assert [(e.kind, e.data, e.id) for e in events] == [
        ("status", '{"a":\n1}', "7"), ("message", "plain", "7"), ("pipeline", '{"x": "é"}', "7")]
    assert events[0].json() == {"a": 1} and events[1].json() is None


def test_an_event_is_only_dispatched_at_its_blank_line() -> None:
    assert parse("event: status\ndata: 1\n") == []
