"""Roles per commune: the capability matrix, and what the overview lets each one see."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import Forbidden

from bot.dashboard.permissions import Capability, can, communes_visible, require
from tests.dashboard.conftest import login

# Written out rather than imported, so a change to the code's table shows here.
EXPECTED = {
    "viewer": {"read"},
    "agent": {"read", "handle_feedback"},
    "editor": {"read", "handle_feedback", "edit_content", "send_broadcasts"},
    "admin": {"read", "handle_feedback", "edit_content", "send_broadcasts", "manage_staff"},
}


def test_capabilities_are_the_five_named_ones() -> None:
    assert {c.value for c in Capability} == {
        "read",
        "handle_feedback",
        "edit_content",
        "send_broadcasts",
        "manage_staff",
    }


@pytest.mark.parametrize("capability", list(Capability))
@pytest.mark.parametrize("role", list(EXPECTED))
def test_a_cotonou_role_opens_cotonou_only(make_staff, communes, role, capability) -> None:
    staff = make_staff(f"{role}@cotonou.example", roles={"cotonou": role})
    assert can(staff, capability, communes["cotonou"].id) is (capability in EXPECTED[role])
    assert can(staff, capability, communes["abomey-calavi"].id) is False
    assert can(staff, capability, communes["akpro-missere"].id) is False
    assert can(staff, capability, None) is False


@pytest.mark.parametrize("capability", list(Capability))
def test_national_admin_can_everything_everywhere(make_staff, communes, capability) -> None:
    staff = make_staff("national@gouv.example", national_admin=True)
    for commune in communes.values():
        assert can(staff, capability, commune.id) is True


def test_no_role_and_inactive_staff_can_nothing(make_staff, communes, session) -> None:
    nobody = make_staff("nobody@cotonou.example")
    retired = make_staff("retired@gouv.example", national_admin=True)
    retired.active = False
    session.commit()
    for capability in Capability:
        for commune in communes.values():
            assert not can(nobody, capability, commune.id)
            assert not can(retired, capability, commune.id)
            assert not can(None, capability, commune.id)
    assert communes_visible(session, retired) == []


def test_require_aborts_with_403(make_staff, communes) -> None:
    editor = make_staff("editor@cotonou.example", roles={"cotonou": "editor"})
    require(editor, Capability.SEND_BROADCASTS, communes["cotonou"].id)
    with pytest.raises(Forbidden):
        require(editor, Capability.READ, communes["abomey-calavi"].id)
    with pytest.raises(Forbidden):
        require(editor, Capability.MANAGE_STAFF, communes["cotonou"].id)


def test_unknown_capability_is_an_error_not_a_yes(make_staff, communes) -> None:
    admin = make_staff("admin@cotonou.example", roles={"cotonou": "admin"})
    with pytest.raises(ValueError):
        can(admin, "delete_everything", communes["cotonou"].id)


def test_communes_visible(make_staff, communes, session) -> None:
    national = make_staff("national@gouv.example", national_admin=True)
    two = make_staff("two@example.org", roles={"cotonou": "viewer", "abomey-calavi": "agent"})
    viewer = make_staff("viewer@cotonou.example", roles={"cotonou": "viewer"})
    assert {c.slug for c in communes_visible(session, national)} == set(communes)
    assert [c.slug for c in communes_visible(session, two)] == ["abomey-calavi", "cotonou"]
    assert [c.slug for c in communes_visible(session, viewer)] == ["cotonou"]


def test_overview_shows_only_visible_communes(client, make_staff, communes) -> None:
    make_staff("viewer@cotonou.example", roles={"cotonou": "viewer"})
    login(client, "viewer@cotonou.example")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="commune-cotonou"' in page
    assert communes["cotonou"].name in page
    assert 'id="commune-abomey-calavi"' not in page
    assert communes["abomey-calavi"].name not in page
    assert 'id="commune-akpro-missere"' not in page


def test_overview_for_national_admin_lists_every_commune(client, make_staff, communes) -> None:
    make_staff("national@gouv.example", national_admin=True)
    login(client, "national@gouv.example")
    page = client.get("/dashboard/").get_data(as_text=True)
    for slug in communes:
        assert f'id="commune-{slug}"' in page
