"""The outbox's transport: one queued row becomes one Matrix request (a
message or any other event, a redaction, a file upload + m.file, leaving a
room). The row's txn id makes a retried send idempotent on the homeserver."""

from __future__ import annotations

import base64
import io

from nio import RoomLeaveResponse, RoomPutStateResponse, RoomRedactResponse, RoomSendResponse, UploadResponse
from nio.exceptions import LocalProtocolError, OlmUnverifiedDeviceError

from ..outbox import FILE_EVENT, LEAVE_EVENT, STATE_EVENT, PermanentSendError
from .responses import call, describe, raise_if_transient
from .session import MatrixSession

PERMANENT_ERRCODES = {"M_FORBIDDEN", "M_TOO_LARGE", "M_NOT_FOUND", "M_BAD_JSON", "M_NOT_JSON", "M_UNKNOWN_TOKEN"}
UPLOAD_TIMEOUT_S = 120.0


def _refused(resp: object, what: str) -> Exception:
    """A non-transient failure (call() raised the transient ones): permanent when the errcode says so."""
    code = getattr(resp, "status_code", None)
    if code in PERMANENT_ERRCODES:
        return PermanentSendError(f"{what}: {describe(resp)}")
    return RuntimeError(f"{what}: {describe(resp)}")


def file_bytes(content: dict) -> bytes:
    """What a queued file row uploads: base64 for binary data, else UTF-8 text."""
    if "base64" in content:
        return base64.b64decode(content["base64"], validate=True)
    return str(content["text"]).encode("utf-8")


def file_message(content: dict, size: int) -> dict[str, object]:
    """The m.file (or m.image, with its width and height) that points at the upload."""
    info: dict[str, object] = {"mimetype": content["mimetype"], "size": size}
    msgtype = "m.file"
    if content.get("image_size"):
        width, height = content["image_size"]
        info |= {"w": int(width), "h": int(height)}
        msgtype = "m.image"
    return {
        "msgtype": msgtype,
        "body": content["filename"],
        "filename": content["filename"],
        "info": info,
        "m.mentions": {},
    }


class EventSender:
    def __init__(self, session: MatrixSession):
        self.session = session

    async def send(self, room_id: str, event_type: str, content: dict, txn_id: str) -> str:
        """The event id (empty for a leave); PermanentSendError when it can never be sent,
        TransientError or RuntimeError when it may work later."""
        client = self.session.nio
        try:
            if event_type == FILE_EVENT:
                return await self._send_file(room_id, content, txn_id)
            if event_type == LEAVE_EVENT:
                left = await call(client.room_leave(room_id), "leave")
                if isinstance(left, RoomLeaveResponse):
                    return ""
                raise _refused(left, "leave failed")
            if event_type == STATE_EVENT:
                put = client.room_put_state(
                    room_id, content["type"], content["content"], state_key=content.get("state_key", "")
                )
                stated = await call(put, "put state")
                if isinstance(stated, RoomPutStateResponse):
                    return stated.event_id
                raise _refused(stated, "state failed")
            if event_type == "m.room.redaction":
                redact = client.room_redact(room_id, content["redacts"], reason=content.get("reason"), tx_id=txn_id)
                redacted = await call(redact, "redact")
                if isinstance(redacted, RoomRedactResponse):
                    return redacted.event_id
                raise _refused(redacted, "redaction failed")
            resp = await call(
                client.room_send(room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True), "send"
            )
        except OlmUnverifiedDeviceError as exc:  # cannot happen with ignore_unverified_devices
            raise PermanentSendError(str(exc)) from exc
        except LocalProtocolError as exc:
            # "No such room": not joined (yet); the outbox retries a few times, then parks the row.
            raise RuntimeError(str(exc)) from exc
        if isinstance(resp, RoomSendResponse):
            return resp.event_id
        raise _refused(resp, "send failed")

    async def _send_file(self, room_id: str, content: dict, txn_id: str) -> str:
        """Upload `content["text"]` (or the binary `content["base64"]`) as a file (encrypted
        in encrypted rooms), then send m.file, or m.image when `image_size` is given."""
        client = self.session.nio
        data = file_bytes(content)
        room = client.rooms.get(room_id)
        encrypt = bool(room and room.encrypted)
        resp, keys = await call(
            client.upload(
                io.BytesIO(data),
                content_type=content["mimetype"],
                filename=content["filename"],
                encrypt=encrypt,
                filesize=len(data),
            ),
            "upload",
            limit_s=UPLOAD_TIMEOUT_S,
        )
        raise_if_transient(resp, "upload")  # upload() answers a (response, keys) pair
        if not isinstance(resp, UploadResponse):
            raise _refused(resp, "upload failed")
        message = file_message(content, len(data))
        if encrypt:
            message["file"] = {**keys, "url": resp.content_uri, "mimetype": content["mimetype"]}
        else:
            message["url"] = resp.content_uri
        sent = await call(
            client.room_send(room_id, "m.room.message", message, tx_id=txn_id, ignore_unverified_devices=True), "send"
        )
        if isinstance(sent, RoomSendResponse):
            return sent.event_id
        raise _refused(sent, "send failed")
