"""The exchange against a real Synapse, in one scenario on one bot start: a German member's
`!suche Schweißer für Edelstahl` meets a Dutch member's `!bied lassen van RVS` through the
taxonomy (no translation model installed). The seeker gets the top match in the direct chat as
an m.text that shows up in her GET /notifications; she asks for an introduction, the other side
is asked without her name, says yes, and a room with both and a bilingual introduction appears."""

import aiohttp
import pytest

from .helpers import wait_membership

pytestmark = pytest.mark.integration


async def notifications(homeserver: str, token: str) -> list[dict]:
    url = f"{homeserver}/_matrix/client/v3/notifications"
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 200
        return (await resp.json())["notifications"]


def from_bot(user, bot_id: str, text: str) -> list[dict]:
    """The bot's messages containing `text`, in any room the user is in."""
    return [
        e
        for e in user.events
        if e.get("sender") == bot_id and e.get("type") == "m.room.message" and text in e["content"].get("body", "")
    ]


async def wait_text(user, bot_id: str, text: str, timeout: float = 60) -> dict:
    try:
        await user.wait_until(lambda: bool(from_bot(user, bot_id, text)), timeout)
    except TimeoutError:
        got = [e["content"].get("body", "")[:70] for e in user.events if e.get("sender") == bot_id]
        raise AssertionError(f"no {text!r} from the bot (got {got})") from None
    return from_bot(user, bot_id, text)[-1]


async def test_a_german_seek_meets_a_dutch_offer_and_both_agree(make_bot, users, accounts, synapse):
    mod, anna, bernd = await users("mod"), await users("anna"), await users("bernd")
    bot_id = accounts["bot"]["user_id"]
    # The community space is a plain room here (the homeserver evaluates push rules on it).
    group = await mod.create_room(invite=[bot_id, anna.user_id, bernd.user_id], name="exchange")
    bot = make_bot(
        extra={
            "plugins": {"core": {}, "exchange": {}},
            "invites": {"space": group},
            "bot": {"default_language": "nl"},
        }
    ).start()
    for who in (bot_id, anna.user_id, bernd.user_id):
        await wait_membership(mod, group, who)

    # ---- Bernd (Dutch) offers; the text names no resource type: he answers the numbered question
    await bernd.send(group, "!bied lassen van RVS")
    await wait_text(bernd, bot_id, "Over welk soort middel gaat verzoek")
    await bernd.send(group, "1")
    await wait_text(bernd, bot_id, "Aanbod #1 vastgelegd")

    # ---- Anna (German) seeks; her answer opens the seek and the match reaches her phone
    await anna.send(group, "!suche Schweißer für Edelstahl")
    await wait_text(anna, bot_id, "Um welche Art von Ressource geht es")
    await anna.send(group, "3")
    suggestion = await wait_text(anna, bot_id, "Angebote, die zu Ihrem Gesuch")
    dm = suggestion["room_id"]
    assert dm != group
    body = suggestion["content"]["body"]
    assert "lassen van RVS" in body and "beide: Edelstahl, Schweißen" in body
    assert bernd.user_id not in body  # no name before consent
    assert suggestion["content"]["msgtype"] == "m.text"
    assert suggestion["content"]["m.mentions"] == {"user_ids": [anna.user_id]}
    pinged = await notifications(synapse.url, accounts["anna"]["access_token"])
    assert suggestion["event_id"] in [n["event"]["event_id"] for n in pinged]

    # ---- she picks it; Bernd is asked in his own chat, seeing her text but not her name
    await anna.send(dm, "1")
    await wait_text(anna, bot_id, "Ich habe die andere Seite gefragt")
    question = await wait_text(bernd, bot_id, "Een lid van het netwerk zoekt")
    assert "Schweißer für Edelstahl" in question["content"]["body"]
    assert anna.user_id not in question["content"]["body"]
    assert question["content"]["msgtype"] == "m.text"
    pinged = await notifications(synapse.url, accounts["bernd"]["access_token"])
    assert question["event_id"] in [n["event"]["event_id"] for n in pinged]

    # ---- he says yes: a room with both of them and a bilingual introduction
    await bernd.send(question["room_id"], "ja")
    intro = await wait_text(anna, bot_id, "Lernen Sie sich kennen")
    assert intro["room_id"] not in (group, dm, question["room_id"])
    assert "maak kennis met elkaar" in intro["content"]["body"]
    assert intro["content"]["msgtype"] == "m.text"
    assert set(intro["content"]["m.mentions"]["user_ids"]) == {anna.user_id, bernd.user_id}
    await wait_membership(anna, intro["room_id"], bernd.user_id)

    # ---- knowledge: a Dutch item found by a German search through the shared concepts
    shared = await bernd.send(group, "!deel Handleiding voor het lassen van RVS: https://example.org/rvs")
    assert "Bewaard als kennis" in (await bernd.reply_to(shared, bot_id, group))["content"]["body"]
    search = await anna.send(group, "!finde Schweißen")
    assert "Handleiding voor het lassen van RVS" in (await anna.reply_to(search, bot_id, group))["content"]["body"]
    # 📌 on her own message saves it, with its permalink
    tip = await anna.send(group, "Tipp: das Förderprogramm für Wasserstoff läuft bis März")
    await anna.send_event(
        group, "m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": tip, "key": "📌"}}
    )
    await wait_text(anna, bot_id, "Als Wissen #")
    found = await anna.send(group, "!finde Wasserstoff")
    assert "Förderprogramm" in (await anna.reply_to(found, bot_id, group))["content"]["body"]

    # ---- !forget: Bernd's offer and knowledge are gone from every search
    private = question["room_id"]
    await bernd.send(private, "!vergeet")
    await wait_text(bernd, bot_id, "Zeker weten?")
    await bernd.send(private, "!vergeet bevestig")
    await wait_text(bernd, bot_id, "Klaar: alles wat ik over je bewaarde is gewist")
    again = await anna.send(group, "!finde RVS")
    body = (await anna.reply_to(again, bot_id, group))["content"]["body"]
    assert "Schweißer für Edelstahl" in body  # her own seek is still there ...
    assert "lassen van RVS" not in body and "Handleiding" not in body  # ... his offer and knowledge are not
    assert bot.stop() == 0
