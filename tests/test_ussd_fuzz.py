"""Random USSD sessions: never a 500, never a screen over 160 characters or outside GSM-7."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content.loader import load_content
from bot.gsm import is_gsm7

inputs = st.lists(
    st.sampled_from(["1", "2", "3", "9", "10", "11", "12", "98", "0", "00", "", "abc", "1*2"])
    | st.text(max_size=40),
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=inputs)
def test_random_sessions(client, session, sequence) -> None:
    if not session.info.get("loaded"):
        load_content(session)
        session.commit()
        session.info["loaded"] = True
    session_id = f"fuzz-{abs(hash(tuple(sequence)))}"
    history: list[str] = []
    for item in ["", *sequence]:
        if item:
            history.append(item)
        form = {
            "sessionId": session_id,
            "serviceCode": "*202*22#",
            "phoneNumber": "+2290197123456",
            "text": "*".join(history),
        }
        response = client.post("/webhooks/at/ussd", data=form)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert body[:4] in ("CON ", "END ")
        assert len(body) - 4 <= 160
        assert is_gsm7(body[4:])
        if body.startswith("END "):
            break
