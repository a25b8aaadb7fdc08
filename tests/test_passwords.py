"""Staff passwords: argon2id at RFC 9106's cost, a minimum length, no crash on bad hashes."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from bot import passwords


def test_production_parameters_are_rfc_9106_argon2id() -> None:
    # The suite hashes at the smallest cost (tests/conftest.py); these are the real ones.
    assert passwords.PARAMETERS.type is Type.ID
    assert passwords.PARAMETERS.memory_cost >= 64 * 1024
    assert passwords.PARAMETERS.time_cost >= 3
    made = PasswordHasher.from_parameters(passwords.PARAMETERS).hash("correct horse battery")
    assert extract_parameters(made) == passwords.PARAMETERS


def test_a_hash_verifies_only_its_password() -> None:
    made = passwords.hash_password("correct horse battery")
    assert made.startswith("$argon2id$")
    assert passwords.verify_password(made, "correct horse battery")
    assert not passwords.verify_password(made, "correct horse batterY")


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=8,t=1,p=1$broken"])
def test_a_broken_stored_hash_is_a_failed_login_not_an_error(stored: str) -> None:
    assert not passwords.verify_password(stored, "correct horse battery")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        passwords.hash_password("short")
