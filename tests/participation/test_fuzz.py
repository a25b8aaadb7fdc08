"""Random input inside every participation dialog: never an error, never a screen or an
SMS over its channel's limits."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content.loader import load_content
from bot.engine import message_turn
from bot.gsm import is_gsm7, segment_info
from bot.models import Contact
from bot.models.enums import Channel
from bot.models.types import utcnow
from bot.participation import polls
from bot.redis import get_redis

PHONE = "+2290197666666"
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
typed = st.sampled_from(
    ["1", "2", "3", "7", "14", "98", "0", "00", "", "OUI", "non", "x", "?"]
) | st.text(max_size=300)
KEYWORDS = ["AVIS", "AVIS la route est coupee", "PLAINTE", "SUIVI", "SUIVI AV-7K2P", "QUESTION",
            "QUESTION pourquoi les caniveaux", "SONDAGE", "SONDAGE 2", "ABONNE", "ABONNE COTONOU",
            "OUI", "YES", "MES DONNEES", "SUPPRIMER", "non", "1", "2", "14", "SUITE", "MENU",
            ""]  # fmt: skip
messages = st.sampled_from(KEYWORDS) | st.text(max_size=500)


def _ready(session) -> int:
    """The sample content and an open poll, once per test function; the contact's id."""
    if not session.info.get("ready"):
        load_content(session)
        closes = utcnow() + timedelta(days=3)
        polls.create_poll(session, "cotonou", "Priorite 2027 ?", ["Routes", "Ecoles"], closes)
        session.add(Contact(phone_e164=PHONE))
        session.commit()
        session.info["ready"] = True
    return session.info.setdefault("contact_id", session.query(Contact.id).scalar())


@SETTINGS
@given(entry=st.sampled_from(["1", "2", "3", "4", "5", "6"]), sequence=st.lists(typed, max_size=8))
def test_random_ussd_input_in_participation(client, session, entry, sequence) -> None:
    _ready(session)
    session_id = f"fuzz-p-{abs(hash((entry, tuple(sequence))))}"
    history: list[str] = []
    for item in ["", "1", "10", entry, *sequence]:
        if item:
            history.append(item)
        form = {"sessionId": session_id, "serviceCode": "*202*22#", "phoneNumber": PHONE,
                "text": "*".join(history)}  # fmt: skip
        response = client.post("/webhooks/at/ussd", data=form)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert body[:4] in ("CON ", "END ") and len(body) - 4 <= 160 and is_gsm7(body[4:])
        if body.startswith("END "):
            break


@SETTINGS
@given(sequence=st.lists(messages, min_size=1, max_size=8))
def test_random_messages_in_participation(session, sequence) -> None:
    contact_id = _ready(session)
    redis = get_redis()
    for text in sequence:
        for channel in (Channel.SMS, Channel.WHATSAPP):
            outcome = message_turn(session, redis, contact_id, channel, text)
            session.commit()
            assert outcome.texts and all(outcome.texts)
            for reply in outcome.texts:
                if channel is Channel.SMS:
                    assert is_gsm7(reply) and segment_info(reply).segments <= 2, reply
                else:
                    assert len(reply) <= 4096
