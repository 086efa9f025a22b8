"""Files at the Matrix edge: text and binary uploads become m.file / m.image."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

from nio import RoomSendResponse, UploadResponse

from diabot.matrix.send import EventSender, file_bytes, file_message
from diabot.outbox import FILE_EVENT
from diabot.sending import Sender

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


class FakeNio:
    def __init__(self) -> None:
        self.rooms: dict[str, Any] = {"!r:x": SimpleNamespace(encrypted=False)}
        self.uploaded: list[tuple[bytes, str, str]] = []
        self.messages: list[dict] = []

    async def upload(self, data: Any, content_type: str, filename: str, encrypt: bool, filesize: int) -> Any:
        self.uploaded.append((data.read(), content_type, filename))
        return UploadResponse("mxc://x/abc"), None

    async def room_send(self, room_id: str, event_type: str, content: dict, **kwargs: Any) -> Any:
        self.messages.append(content)
        return RoomSendResponse("$e", room_id)


def queued_content(data: str | bytes, **kwargs: Any) -> dict:
    sender = Sender.__new__(Sender)
    captured: list[dict] = []
    sender.send_contents = lambda room, contents, event_type: captured.extend(contents)  # type: ignore[method-assign]
    sender.file("!r:x", "chart.png", data, "image/png", **kwargs)
    return captured[0]


def test_binary_data_is_queued_as_base64_and_uploaded_byte_for_byte():
    content = queued_content(PNG, image_size=(800, 600))
    assert "text" not in content and base64.b64decode(content["base64"]) == PNG
    assert file_bytes(content) == PNG


def test_text_stays_text():
    content = queued_content("a;b\n1;2\n")
    assert content["text"] == "a;b\n1;2\n" and "base64" not in content
    assert file_bytes(content) == b"a;b\n1;2\n"


def test_an_image_size_makes_an_m_image_with_its_dimensions():
    message = file_message({"filename": "c.png", "mimetype": "image/png", "image_size": [800, 600]}, 1234)
    assert message["msgtype"] == "m.image"
    assert message["info"] == {"mimetype": "image/png", "size": 1234, "w": 800, "h": 600}
    plain = file_message({"filename": "c.csv", "mimetype": "text/csv"}, 5)
    assert plain["msgtype"] == "m.file" and plain["info"] == {"mimetype": "text/csv", "size": 5}


async def test_the_edge_uploads_the_decoded_bytes():
    nio = FakeNio()
    sender = EventSender(SimpleNamespace(nio=nio))  # type: ignore[arg-type]
    content = queued_content(PNG, image_size=(10, 20))
    assert await sender.send("!r:x", FILE_EVENT, content, "txn1") == "$e"
    assert nio.uploaded == [(PNG, "image/png", "chart.png")]
    (message,) = nio.messages
    assert message["url"] == "mxc://x/abc" and message["msgtype"] == "m.image" and message["info"]["size"] == len(PNG)
