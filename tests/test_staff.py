"""Staff accounts from the command line, with hashed passwords and an audit trail."""

from sqlalchemy import select

from bot.content.loader import load_content
from bot.models import AuditLog, StaffRole, StaffUser
from bot.models.enums import StaffRoleName
from bot.passwords import verify_password

PASSWORD = "correct horse battery"


def _create(runner, email: str = "clerk@mairie-cotonou.example", password: str = PASSWORD):
    return runner.invoke(
        args=["staff", "create", "--email", email, "--name", "Clerk", "--password", password]
    )


def test_create_hashes_with_argon2_and_audits(runner, session) -> None:
    result = _create(runner)
    assert result.exit_code == 0, result.output
    user = session.scalar(select(StaffUser))
    assert user.email == "clerk@mairie-cotonou.example"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(user.password_hash, "wrong password!")
    entry = session.scalar(select(AuditLog))
    assert (entry.actor, entry.action, entry.entity) == ("cli", "create", "staff_user")
    assert "password" not in str(entry.after)


def test_create_refuses_bad_input_with_a_clear_message(runner, session) -> None:
    assert _create(runner).exit_code == 0
    cases = [
        (_create(runner), "exists already"),
        (_create(runner, email="not-an-email"), "not an email address"),
        (_create(runner, email="b@x.example", password="short"), "at least 10 characters"),
    ]
    for result, message in cases:
        assert result.exit_code == 1
        assert message in result.output
    assert len(session.scalars(select(StaffUser)).all()) == 1


def test_set_role_per_commune(runner, session) -> None:
    load_content(session)
    session.commit()
    _create(runner)
    args = ["staff", "set-role", "--email", "clerk@mairie-cotonou.example", "--commune"]
    assert runner.invoke(args=[*args, "cotonou", "--role", "editor"]).exit_code == 0
    assert runner.invoke(args=[*args, "cotonou", "--role", "agent"]).exit_code == 0
    roles = session.scalars(select(StaffRole)).all()
    assert [(r.role, r.commune_id) for r in roles] == [(StaffRoleName.AGENT, roles[0].commune_id)]
    changes = session.scalars(select(AuditLog).where(AuditLog.action == "set_role")).all()
    assert [(c.before, c.after) for c in changes] == [
        (None, {"role": "editor"}),
        ({"role": "editor"}, {"role": "agent"}),
    ]

    unknown_role = runner.invoke(args=[*args, "cotonou", "--role", "mayor"])
    assert "roles are admin, editor, agent, viewer" in unknown_role.output
    unknown_commune = runner.invoke(args=[*args, "parakou", "--role", "viewer"])
    assert "no commune 'parakou'" in unknown_commune.output
