from __future__ import annotations

import json
from collections.abc import Iterator

import phonenumbers
import pytest
from phonenumbers import PhoneMetadata, PhoneNumberDesc

from bot.phone import InvalidPhoneNumber, mask, mask_in_text, normalize

BENIN = "+2290197123456"
BENIN_MASKED = "+229 01 97 ** ** 56"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+2290197123456", BENIN),
        ("+229 01 97 12 34 56", BENIN),
        ("0197123456", BENIN),
        ("01 97 12 34 56", BENIN),
        ("01.97.12.34.56", BENIN),
        ("01-97-12-34-56", BENIN),
        ("(+229) 01 97 12 34 56", BENIN),
        ("  +229\u00a001\u202f97 12 34 56\t", BENIN),
        ("002290197123456", BENIN),
        ("tel:+229-01-97-12-34-56", BENIN),
        ("TEL:+2290197123456", BENIN),
        ("whatsapp:+2290197123456", BENIN),
        ("whatsapp: +229 97 12 34 56", BENIN),
        ("2290197123456", BENIN),
        # Legacy 8-digit numbers get 01 in front, with or without the country code.
        ("97123456", BENIN),
        ("97 12 34 56", BENIN),
        ("+22997123456", BENIN),
        ("0022997123456", BENIN),
        ("22997123456", BENIN),
        ("whatsapp:+22997123456", BENIN),
        ("66001122", "+2290166001122"),
        # A legacy number may itself start with 229: only 11 or 13 digits carry the code.
        ("22912345", "+2290122912345"),
        ("0122912345", "+2290122912345"),
        ("22922912345", "+2290122912345"),
        ("+229 21 30 12 34", "+2290121301234"),
        ("+33612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("+2348031234567", "+2348031234567"),
        ("whatsapp:+2348031234567", "+2348031234567"),
        ("+1 (201) 555-0123", "+12015550123"),
    ],
)
def test_normalize_accepts(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("0803 123 4567", "NG", "+2348031234567"),
        ("+2290197123456", "FR", BENIN),
        ("+22997123456", "NG", BENIN),
        # The US international prefix reaches Benin through the library, then our rule.
        ("011 229 97 12 34 56", "US", BENIN),
    ],
)
def test_normalize_other_default_region(raw: str, region: str, expected: str) -> None:
    assert normalize(raw, default_region=region) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("tel:", "empty"),
        ("abc", "not a number"),
        ("97 12 34 5x", "not a number"),
        ("+229 97 12 34 56 ext 3", "not a number"),
        ("++22997123456", "not a number"),
        ("229+97123456", "not a number"),
        ("9712345", "too short"),
        ("+2291234", "too short"),
        ("019712345678", "too long"),
        ("+229019712345678", "too long"),
        ("197123456", "not a valid Benin number"),
        ("0297123456", "not a valid Benin number"),
        ("0107123456", "not a valid Benin number"),
        ("07123456", "not a valid Benin number"),
        ("17123456", "not a valid Benin number"),
        ("+229 019 712 345", "not a valid Benin number"),
        ("0612345678", "not a valid Benin number"),
        ("+999123456789", "unknown country code"),
        ("+33 1", "too short"),
        ("+3361234567891234567", "too long"),
        ("+33 9 99 99 99 99 9", "too long"),
        ("+33 0 12 34 56 78", "not a valid number"),
    ],
)
def test_normalize_rejects_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize(raw)
    assert caught.value.reason == reason
    assert caught.value.raw == raw
    assert isinstance(caught.value, ValueError)


def test_normalize_is_idempotent() -> None:
    for raw in ("97123456", "+229 01 97 12 34 56", "+33612345678"):
        once = normalize(raw)
        assert normalize(once) == once


@pytest.fixture
def pre_2024_benin_metadata() -> Iterator[None]:
    """Installs the 8-digit Benin plan phonenumbers shipped before the change."""
    PhoneMetadata.metadata_for_region("BJ")
    old = PhoneMetadata(
        id="BJ",
        country_code=229,
        international_prefix="00",
        general_desc=PhoneNumberDesc(
            national_number_pattern=r"[24-689]\d{7}", possible_length=(8,)
        ),
        fixed_line=PhoneNumberDesc(national_number_pattern=r"2[02-9]\d{6}", possible_length=(8,)),
        mobile=PhoneNumberDesc(
            national_number_pattern=r"(?:4[0-6]|5[0-8]|6[0-8]|9[0-9])\d{6}",
            possible_length=(8,),
        ),
        register=False,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(PhoneMetadata._region_metadata, "BJ", old)
        yield


@pytest.mark.usefixtures("pre_2024_benin_metadata")
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("97123456", BENIN),
        ("+22997123456", BENIN),
        ("0197123456", BENIN),
        ("+2290197123456", BENIN),
        ("011 229 97 12 34 56", BENIN),
    ],
)
def test_benin_rule_does_not_depend_on_old_metadata(raw: str, expected: str) -> None:
    # The fixture really is the old plan: the library now rejects the new numbers.
    assert not phonenumbers.is_valid_number(phonenumbers.parse(BENIN))
    assert phonenumbers.is_valid_number(phonenumbers.parse("+22997123456"))
    region = "US" if raw.startswith("011") else "BJ"
    assert normalize(raw, default_region=region) == expected
    assert mask(expected) == BENIN_MASKED


@pytest.mark.parametrize("national", ["0197123456", "0166001122", "0121301234", "0195123456"])
def test_benin_numbers_we_accept_are_valid_for_current_metadata(national: str) -> None:
    number = phonenumbers.parse(normalize(national))
    assert phonenumbers.is_valid_number(number)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (BENIN, BENIN_MASKED),
        ("+2290166001122", "+229 01 66 ** ** 22"),
        # Whatever reaches the masker is normalized first, so legacy forms look the same.
        ("+22997123456", BENIN_MASKED),
        ("whatsapp:+22997123456", BENIN_MASKED),
        ("97 12 34 56", BENIN_MASKED),
        ("+33612345678", "+33 6 1* ** ** 78"),
        ("+2348031234567", "+234 80* *** **67"),
        ("+12015550123", "+1 20*-***-**23"),
        ("+35312345678", "+353 1 2** **78"),
        # Short national numbers show one digit each side, not four out of four.
        ("+6834002", "+683 4**2"),
    ],
)
def test_mask(value: str, expected: str) -> None:
    assert mask(value) == expected


@pytest.mark.parametrize(
    "junk",
    ["", "junk", "+229", "+2291234", "+999123456789", "12", "None", "\x00", None, 97123456],
)
def test_mask_never_raises_on_junk(junk: object) -> None:
    assert mask(junk) == "***"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from +2290197123456 ok", f"from {BENIN_MASKED} ok"),
        ("from +22997123456.", f"from {BENIN_MASKED}."),
        ("From=whatsapp:+22997123456&To=x", f"From=whatsapp:{BENIN_MASKED}&To=x"),
        ("From=%2B2290197123456&Body=hi", f"From={BENIN_MASKED}&Body=hi"),
        ("from=%2b22997123456", f"from={BENIN_MASKED}"),
        ("phoneNumber=97123456&text=1", f"phoneNumber={BENIN_MASKED}&text=1"),
        ("call 0197123456 now", f"call {BENIN_MASKED} now"),
        ("call 97 12 34 56 now", f"call {BENIN_MASKED} now"),
        ("call 01 97 12 34 56", f"call {BENIN_MASKED}"),
        ("call +229 01 97 12 34 56", f"call {BENIN_MASKED}"),
        ("wa_id 2290197123456", f"wa_id {BENIN_MASKED}"),
        ('{"wa_id": "22997123456"}', f'{{"wa_id": "{BENIN_MASKED}"}}'),
        ("text=1%2A2%2A97123456", f"text=1%2A2%2A{BENIN_MASKED}"),
        ("+33612345678 and +2348031234567", "+33 6 1* ** ** 78 and +234 80* *** **67"),
        # A plus and 8-15 digits is masked even when no country would accept it.
        ("to +12345678", "to ***"),
        ("a +22901971234 b", "a *** b"),
        ("97123456\n0166001122", f"{BENIN_MASKED}\n+229 01 66 ** ** 22"),
    ],
)
def test_mask_in_text_masks(text: str, expected: str) -> None:
    assert mask_in_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no numbers here",
        "2024-11-30T06:04:45Z",
        "2024-11-30 06:04:45",
        "epoch 1732950000 ms 1732950000123",
        "amount 45 200 000 000 XOF, 1 250 000",
        "ref AV-7K2P id 1234567",
        "sid SM0123456789abcdef97123456ab",
        "uuid 9f1c2d3e4a5b6c7d",
        "+229 01 97 ** ** 56",
        "ip 10.20.30.40",
        "123456789 is nine digits",
        "0297123456 is not a Benin number",
    ],
)
def test_mask_in_text_leaves_other_text_alone(text: str) -> None:
    assert mask_in_text(text) == text


def test_mask_in_text_is_idempotent_and_keeps_json_strings_valid() -> None:
    line = json.dumps({"from": "whatsapp:+22997123456", "body": "appelez 97 12 34 56"})
    masked = mask_in_text(line)
    assert mask_in_text(masked) == masked
    assert json.loads(masked) == {
        "from": f"whatsapp:{BENIN_MASKED}",
        "body": f"appelez {BENIN_MASKED}",
    }
    assert "12 34" not in masked
