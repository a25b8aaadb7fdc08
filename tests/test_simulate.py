"""The command-line phone, through the real webhooks and a real worker."""

import pytest

from bot.content.loader import load_content

PHONE = "+2290197000001"


@pytest.fixture
def loaded(session) -> None:
    load_content(session)
    session.commit()


def test_ussd_plays_the_inputs_and_prints_the_last_screen(runner, loaded) -> None:
    result = runner.invoke(args=["simulate", "ussd", "--phone", PHONE, "--input", "1*1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("CON ")
    assert "Budget" in result.output and "Recevoir par SMS" in result.output


def test_ussd_interactive(runner, loaded) -> None:
    result = runner.invoke(args=["simulate", "ussd", "--phone", PHONE], input="1\n1\n1\n")
    assert result.exit_code == 0, result.output
    assert "1 Cotonou" in result.output
    assert "END " in result.output  # the SMS copy ends the session


def test_sms_and_state_between_invocations(runner, loaded) -> None:
    first = runner.invoke(args=["simulate", "sms", "--phone", PHONE, "budget"])
    assert first.exit_code == 0, first.output
    assert "Abomey-Calavi" in first.output
    second = runner.invoke(args=["simulate", "sms", "--phone", PHONE, "2"])
    assert second.exit_code == 0, second.output
    assert "Budget" in second.output and "Abomey-Calavi" in second.output


def test_whatsapp(runner, loaded) -> None:
    result = runner.invoke(args=["simulate", "whatsapp", "--phone", PHONE, "budget cotonou"])
    assert result.exit_code == 0, result.output
    assert "*Budget" in result.output


def test_bad_phone_is_refused(runner) -> None:
    result = runner.invoke(args=["simulate", "sms", "--phone", "hello", "budget"])
    assert result.exit_code == 2
    assert "--phone" in result.output


def test_simulate_passes_the_webhook_token_when_one_is_set(app, runner, loaded) -> None:
    # The providers' URLs then carry ?token=; the command line phone must too.
    app.config["AT_WEBHOOK_TOKEN"] = "s3cret-token"
    assert app.test_client().post("/webhooks/at/ussd", data={}).status_code == 403
    result = runner.invoke(args=["simulate", "ussd", "--phone", PHONE, "--input", "1"])
    assert result.exit_code == 0, result.output
    assert "Budget" in result.output
    sms = runner.invoke(args=["simulate", "sms", "--phone", PHONE, "budget cotonou"])
    assert sms.exit_code == 0 and "Budget" in sms.output
