"""convert() is total: for any JSON a client can send, a clean event or a
typed Unusable, never an exception (hypothesis over arbitrary contents)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from diabot.events import Message, RoomEvent, Unusable
from diabot.matrix.convert import convert

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
# Keys that matter to convert(), mixed with arbitrary values of any shape.
relates = st.fixed_dictionaries(
    {},
    optional={
        "rel_type": json_values | st.sampled_from(["m.replace", "m.annotation", "m.thread"]),
        "event_id": json_values,
        "key": json_values,
        "m.in_reply_to": json_values,
        "is_falling_back": json_values,
    },
)
contents = st.fixed_dictionaries(
    {},
    optional={
        "msgtype": json_values,
        "body": json_values | st.just("!ping"),
        "m.relates_to": json_values | relates,
        "m.new_content": json_values,
        "membership": json_values,
        "redacts": json_values,
    },
)
sources = st.fixed_dictionaries(
    {},
    optional={
        "event_id": json_values | st.just("$e"),
        "sender": json_values | st.just("@a:x"),
        "type": json_values | st.sampled_from(["m.room.message", "m.reaction", "m.room.member", "m.room.redaction"]),
        "content": json_values | contents,
        "origin_server_ts": json_values,
        "state_key": json_values,
        "unsigned": json_values,
        "redacts": json_values,
    },
)


@settings(max_examples=1000, deadline=None)
@given(source=sources | json_values)
def test_convert_never_raises(source):
    event = convert(source, "!r:x", encrypted=False)
    assert isinstance(event, (RoomEvent, Unusable))
    if isinstance(event, RoomEvent):
        # What the dispatcher and plugins read must not raise either.
        assert isinstance(event.relates_to, dict)
        assert event.thread_root is None or isinstance(event.thread_root, str)
        assert isinstance(event.ts, int)
    if isinstance(event, Message):
        assert isinstance(event.body, str) and isinstance(event.msgtype, str)
        assert event.reply_to is None or isinstance(event.reply_to, str)
        assert isinstance(event.is_edit, bool)


def test_the_reported_poison_message_is_an_ordinary_command():
    source = {
        "event_id": "$p",
        "sender": "@a:x",
        "type": "m.room.message",
        "origin_server_ts": 1,
        "content": {"msgtype": "m.text", "body": "!ping", "m.relates_to": "garbage"},
    }
    event = convert(source, "!r:x", encrypted=False)
    assert isinstance(event, Message) and event.body == "!ping" and event.relates_to == {}
