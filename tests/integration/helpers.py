from __future__ import annotations

from tests.support.matrix_user import MatrixUser


async def wait_membership(
    user: MatrixUser, room_id: str, member: str, membership: str = "join", timeout: float = 30
) -> None:
    def seen():
        return any(
            e.get("type") == "m.room.member"
            and e.get("state_key") == member
            and e.get("content", {}).get("membership") == membership
            and e.get("room_id") == room_id
            for e in user.events
        )

    try:
        await user.wait_until(seen, timeout)
    except TimeoutError:
        raise AssertionError(f"{member} did not reach {membership} in {room_id}") from None


async def room_with_bot(user: MatrixUser, bot_id: str, **kwargs) -> str:
    room_id = await user.create_room(invite=[bot_id], **kwargs)
    await wait_membership(user, room_id, bot_id)
    return room_id


def replies_to(user: MatrixUser, bot_id: str, room_id: str, event_id: str) -> list[dict]:
    return [
        e
        for e in user.from_sender(bot_id, room_id)
        if e.get("content", {}).get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == event_id
    ]
