"""Which homeserver failures are transient (TransientError: try again later)
and which are refusals (the caller's existing answer), with nio's own
response classes and a fake transport status, as nio builds them."""

import asyncio
from types import SimpleNamespace

import pytest
from aiohttp import ClientConnectionError
from nio import (
    RoomCreateError,
    RoomGetStateEventError,
    RoomGetStateEventResponse,
    RoomInviteError,
    RoomInviteResponse,
    RoomPutStateError,
    RoomSendError,
    RoomSendResponse,
)

from diabot.errors import TransientError
from diabot.matrix import responses
from diabot.matrix.rooms import Rooms
from diabot.matrix.send import EventSender
from diabot.outbox import PermanentSendError


def answered(resp, status: int | None):
    resp.transport_response = SimpleNamespace(status=status) if status is not None else None
    return resp


TRANSIENT = [
    answered(RoomSendError("Internal server error", "M_UNKNOWN"), 500),
    answered(RoomSendError("Bad gateway"), 502),
    answered(RoomSendError("Too many requests", "M_LIMIT_EXCEEDED", retry_after_ms=4000), 429),
    answered(RoomSendError("rate limited", "M_LIMIT_EXCEEDED"), None),  # nio gave up on 429s
    answered(RoomSendError("unparseable body"), None),  # no HTTP answer and no errcode
]
PERMANENT = [
    answered(RoomSendError("not allowed", "M_FORBIDDEN"), 403),
    answered(RoomSendError("unknown room", "M_NOT_FOUND"), 404),
    answered(RoomSendError("too big", "M_TOO_LARGE"), 413),
    answered(RoomSendError("bad", "M_UNKNOWN"), 400),
]


@pytest.mark.parametrize("resp", TRANSIENT, ids=lambda r: r.message)
def test_transient_answers(resp):
    assert responses.is_transient(resp)


@pytest.mark.parametrize("resp", PERMANENT, ids=lambda r: r.message)
def test_permanent_answers(resp):
    assert not responses.is_transient(resp)


class FakeNio:
    """Each method answers what the test put in `answers` (a response, or an exception to raise)."""

    def __init__(self, **answers):
        self.answers = answers
        self.rooms = {}

    def _answer(self, name):
        answer = self.answers[name]

        async def respond():
            if isinstance(answer, BaseException):
                raise answer
            if answer == "hang":
                await asyncio.sleep(3600)
            return answer

        return respond()

    def room_send(self, *args, **kwargs):
        return self._answer("room_send")

    def room_invite(self, *args, **kwargs):
        return self._answer("room_invite")

    def room_put_state(self, *args, **kwargs):
        return self._answer("room_put_state")

    def room_get_state_event(self, *args, **kwargs):
        return self._answer("room_get_state_event")


def session_with(nio):
    return SimpleNamespace(nio=nio, logged_in=True, user_id="@bot:x")


async def send(nio):
    return await EventSender(session_with(nio)).send("!r:x", "m.room.message", {"body": "hi"}, "txn1")


@pytest.mark.parametrize("resp", TRANSIENT, ids=lambda r: r.message)
async def test_send_raises_transient_error_on_transient_answers(resp):
    with pytest.raises(TransientError):
        await send(FakeNio(room_send=resp))


async def test_send_refusals_are_permanent_or_retried_as_before():
    with pytest.raises(PermanentSendError):
        await send(FakeNio(room_send=PERMANENT[0]))
    with pytest.raises(RuntimeError) as caught:
        await send(FakeNio(room_send=PERMANENT[3]))  # 400 M_UNKNOWN: not a known permanent code
    assert not isinstance(caught.value, (TransientError, PermanentSendError))
    assert await send(FakeNio(room_send=RoomSendResponse("$e", "!r:x"))) == "$e"


@pytest.mark.parametrize("failure", [ClientConnectionError("refused"), TimeoutError(), ConnectionResetError()])
async def test_connection_errors_and_timeouts_are_transient(failure):
    with pytest.raises(TransientError):
        await send(FakeNio(room_send=failure))


async def test_a_call_that_hangs_times_out_as_transient():
    with pytest.raises(TransientError):
        await responses.call(FakeNio(room_send="hang").room_send(), "send", limit_s=0.05)


async def test_room_administration_keeps_its_answers_for_refusals_and_raises_transient_errors():
    server_error = answered(RoomPutStateError("oops", "M_UNKNOWN"), 503)
    rooms = Rooms(session_with(FakeNio(room_put_state=server_error)))
    with pytest.raises(TransientError):
        await rooms.put_state("!r:x", "m.room.topic", {"topic": "x"})
    refused = answered(RoomPutStateError("no", "M_FORBIDDEN"), 403)
    rooms = Rooms(session_with(FakeNio(room_put_state=refused)))
    with pytest.raises(RuntimeError) as caught:
        await rooms.put_state("!r:x", "m.room.topic", {"topic": "x"})
    assert not isinstance(caught.value, TransientError)

    rooms = Rooms(session_with(FakeNio(room_invite=answered(RoomInviteError("no", "M_FORBIDDEN"), 403))))
    assert await rooms.invite("!r:x", "@a:x") is False
    rooms = Rooms(session_with(FakeNio(room_invite=answered(RoomInviteResponse(), 200))))
    assert await rooms.invite("!r:x", "@a:x") is True
    rooms = Rooms(session_with(FakeNio(room_invite=answered(RoomInviteError("later", "M_LIMIT_EXCEEDED"), 429))))
    with pytest.raises(TransientError):
        await rooms.invite("!r:x", "@a:x")

    missing = answered(RoomGetStateEventError("not found", "M_NOT_FOUND"), 404)
    assert await Rooms(session_with(FakeNio(room_get_state_event=missing))).get_state("!r:x", "m.x") is None
    found = answered(RoomGetStateEventResponse({"a": 1}, "m.x", "", "!r:x"), 200)
    assert await Rooms(session_with(FakeNio(room_get_state_event=found))).get_state("!r:x", "m.x") == {"a": 1}
    down = answered(RoomGetStateEventError("bad gateway"), 502)
    with pytest.raises(TransientError):
        await Rooms(session_with(FakeNio(room_get_state_event=down))).get_state("!r:x", "m.x")


def test_a_room_creation_refusal_is_not_transient():
    assert not responses.is_transient(answered(RoomCreateError("no", "M_FORBIDDEN"), 403))
    assert responses.is_transient(answered(RoomCreateError("down"), 504))
