import json

from diabot.events import Message, RoomEvent, Unusable, strip_reply_fallback
from diabot.formatting import MAX_CONTENT_BYTES, notice_contents, reply_relation
from diabot.matrix.convert import convert


def test_strip_reply_fallback():
    body = "> <@a:x> !ping\n> second line\n\n!help lang"
    assert strip_reply_fallback(body) == "!help lang"
    assert strip_reply_fallback("no quote") == "no quote"


def test_convert_reply_strips_fallback_only_for_replies():
    src = {
        "event_id": "$1",
        "sender": "@a:x",
        "type": "m.room.message",
        "origin_server_ts": 5,
        "content": {
            "msgtype": "m.text",
            "body": "> <@b:x> hi\n\n!ping",
            "m.relates_to": {"m.in_reply_to": {"event_id": "$0"}},
        },
    }
    ev = convert(src, "!r:x", encrypted=False)
    assert isinstance(ev, Message) and ev.body == "!ping" and ev.reply_to == "$0"
    src["content"] = {"msgtype": "m.text", "body": "> quoted\n\nnot a reply"}
    assert convert(src, "!r:x", False).body == "> quoted\n\nnot a reply"


def test_convert_thread_and_edit():
    src = {
        "event_id": "$2",
        "sender": "@a:x",
        "type": "m.room.message",
        "origin_server_ts": 5,
        "content": {
            "msgtype": "m.text",
            "body": "!ping",
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": "$root",
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": "$root"},
            },
        },
    }
    ev = convert(src, "!r:x", False)
    assert ev.thread_root == "$root" and ev.reply_to is None
    edit = {
        "event_id": "$3",
        "sender": "@a:x",
        "type": "m.room.message",
        "origin_server_ts": 5,
        "content": {
            "msgtype": "m.text",
            "body": "* new",
            "m.new_content": {"msgtype": "m.text", "body": "new"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$2"},
        },
    }
    ev = convert(edit, "!r:x", False)
    assert ev.is_edit and ev.body == "new"


def test_redacted_or_malformed_events_are_dropped():
    redacted = convert({"event_id": "$1", "sender": "@a:x", "type": "m.room.message", "content": {}}, "!r", False)
    assert type(redacted) is RoomEvent  # not a Message: nothing to answer
    assert isinstance(convert({"type": "m.room.message"}, "!r", False), Unusable)


def test_notice_shape_mentions_and_relation():
    (content,) = notice_contents("**hi** @room", relates_to=reply_relation("$e", "$root"))
    assert content["msgtype"] == "m.notice"
    assert content["m.mentions"] == {}
    assert "@room" not in content["body"] and "@room" not in content["formatted_body"]
    assert content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$e"},
    }
    (plain,) = notice_contents("x", relates_to=reply_relation("$e", None))
    assert plain["m.relates_to"] == {"m.in_reply_to": {"event_id": "$e"}}


def test_html_is_sanitised():
    (content,) = notice_contents("<img src=x onerror=alert(1)> [a](javascript:alert(1)) *ok*")
    html = content["formatted_body"]
    assert "<img" not in html and 'href="javascript' not in html and "<em>ok</em>" in html
    # Raw HTML a plugin might put into markdown is cleaned by nh3, not trusted.
    from diabot.formatting import render_html

    assert render_html("x") == "<p>x</p>"
    from diabot.formatting import ALLOWED_TAGS

    assert "script" not in ALLOWED_TAGS and "img" not in ALLOWED_TAGS


def test_long_output_is_split_then_cut():
    text = "\n\n".join(f"paragraph {i} " + "x" * 500 for i in range(120))
    parts = notice_contents(text, cut_note="CUT")
    assert 1 < len(parts) <= 4
    for part in parts:
        assert len(json.dumps(part).encode()) <= MAX_CONTENT_BYTES
    assert parts[-1]["body"].endswith("CUT")
    # A single huge word is split too.
    parts = notice_contents("y" * 100_000, cut_note="CUT")
    assert all(len(json.dumps(p).encode()) <= MAX_CONTENT_BYTES for p in parts)


def test_events_survive_a_trip_through_json():
    """DeferredEvent keeps the converted event as JSON and rebuilds it for the retry."""
    from diabot.events import event_from_dict

    sources = [
        {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "!ping"}},
        {
            "type": "m.reaction",
            "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$t", "key": "✅"}},
        },
        {"type": "m.room.member", "state_key": "@b:x", "content": {"membership": "join"}},
        {"type": "m.poll.response", "content": {"m.selections": ["a"]}},
    ]
    for extra in sources:
        event = convert({"event_id": "$1", "sender": "@a:x", "origin_server_ts": 5, **extra}, "!r:x", True)
        back = event_from_dict(json.loads(json.dumps(event.to_dict())))
        assert back == event and type(back) is type(event)
