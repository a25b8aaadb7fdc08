"""Broadcast pages: the list, compose with a priced preview, and one broadcast's progress.

The preview is built by `preview_data` for both the page (the "Prévisualiser"
button, no script needed) and the JSON endpoint static/compose.js calls as
staff type; neither stores anything.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from bot.broadcasts.compose import BROADCAST_TOPICS, MAX_TEXT, Estimate, message_text
from bot.dashboard import broadcast_edit, nav
from bot.dashboard.blueprint import bp
from bot.dashboard.forms import FormInvalid
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.dashboard.text import translate
from bot.db import get_session
from bot.gsm import segment_info
from bot.i18n import format_amount, format_datetime, format_percent
from bot.models import Broadcast, Commune
from bot.models.enums import BroadcastStatus, Channel, Topic
from bot.models.types import utcnow

nav.register("dashboard.broadcasts", "dashboard.broadcasts.menu", 30, Capability.READ)

LIST_LIMIT = 100
REFRESH_SECONDS = 5
COUNTERS = ("queued", "sent", "delivered", "failed", "skipped")
CONTROLS = {
    "pause": broadcast_edit.pause,
    "resume": broadcast_edit.resume,
    "cancel": broadcast_edit.cancel,
}
_DONE = ("sent", "pause", "resume", "cancel")
_RUNNING = (BroadcastStatus.SENDING,)


def _form_values() -> dict[str, Any]:
    values: dict[str, Any] = request.form.to_dict()
    values["channels"] = request.form.getlist("channels")
    return values


def _pieces(source: str, replaced: tuple[str, ...]) -> list[tuple[str, bool]]:
    """`source` cut into runs, each marked when its characters would force UCS-2."""
    pieces: list[tuple[str, bool]] = []
    for char in source:
        marked = char in replaced
        if pieces and pieces[-1][1] == marked:
            pieces[-1] = (pieces[-1][0] + char, marked)
        else:
            pieces.append((char, marked))
    return pieces


def preview_data(estimate: Estimate, values: dict[str, Any], template: str | None) -> dict:
    """The preview as plain data, worded in the staff's language: the page and the JSON share it."""
    lang = g.get("lang")
    lines = []
    for line in estimate.lines:
        source = str(values.get(broadcast_edit.TEXT_FIELDS[line.language], "")).strip()
        facts = [translate("dashboard.broadcasts.preview.recipients", count=line.recipients)]
        warnings = []
        if line.channel is Channel.SMS:
            facts.append(translate("dashboard.broadcasts.preview.segments", count=line.segments))
            if line.replaced:
                # The same message untransliterated (as WhatsApp carries it) goes as UCS-2.
                untouched = message_text(source, line.language, Channel.WHATSAPP)
                raw = segment_info(untouched).segments
                warnings.append(translate("dashboard.broadcasts.preview.replaced", count=raw))
        elif line.outside_window:
            key = "outside_template" if template else "outside_skipped"
            warnings.append(
                translate(f"dashboard.broadcasts.preview.{key}", count=line.outside_window)
            )
        facts.append(
            translate(
                "dashboard.broadcasts.preview.cost",
                amount=format_amount(line.cost_xof, lang, precise=True),
            )
        )
        lines.append(
            {
                "id": f"{line.channel.value}-{line.language}",
                "channel": line.channel.value,
                "language": line.language,
                "heading": translate(
                    "dashboard.broadcasts.preview.heading",
                    channel=translate(f"dashboard.broadcasts.channel.{line.channel.value}"),
                    language=translate(f"dashboard.broadcasts.language.{line.language}"),
                ),
                "pieces": _pieces(source, line.replaced),
                "replaced": list(line.replaced),
                "text": line.text,
                "segments": line.segments,
                "recipients": line.recipients,
                "cost_xof": line.cost_xof,
                "outside_window": line.outside_window,
                "facts": facts,
                "warnings": warnings,
            }
        )
    held = estimate.held_until
    return {
        "ok": True,
        "lines": lines,
        "recipients": estimate.recipients,
        "cost_xof": estimate.cost_xof,
        "total": translate(
            "dashboard.broadcasts.preview.total",
            count=estimate.recipients,
            amount=format_amount(estimate.cost_xof, lang, precise=True),
        ),
        "held": translate("dashboard.broadcasts.preview.held", when=format_datetime(held, lang))
        if held
        else None,
    }


def _compose_page(
    commune: Commune,
    values: dict[str, Any],
    status: int = 200,
    errors: dict[str, str] | None = None,
    preview: dict | None = None,
):
    page = render_template(
        "dashboard/broadcasts/compose.html",
        commune=commune,
        values=values,
        errors=errors or {},
        preview=preview,
        topics=list(BROADCAST_TOPICS),
        channels=[Channel.SMS, Channel.WHATSAPP],
        max_text=MAX_TEXT,
    )
    return page, status


@bp.get("/<commune>/broadcasts")
@commune_page(Capability.READ)
def broadcasts(commune: Commune):
    rows = get_session().scalars(
        select(Broadcast)
        .where(Broadcast.commune_id == commune.id)
        .order_by(Broadcast.id.desc())
        .limit(LIST_LIMIT)
    )
    return render_template(
        "dashboard/broadcasts/list.html",
        commune=commune,
        broadcasts=list(rows),
        counters=COUNTERS,
    )


@bp.route("/<commune>/broadcasts/new", methods=["GET", "POST"])
@commune_page(Capability.SEND_BROADCASTS)
def broadcast_new(commune: Commune):
    if request.method == "GET":
        return _compose_page(commune, {"topic": Topic.ALL.value, "channels": ["sms", "whatsapp"]})
    values = _form_values()
    session = get_session()
    if request.form.get("action") == "send":
        try:
            broadcast = broadcast_edit.send(session, g.staff, commune, values)
        except FormInvalid as invalid:
            session.rollback()
            return _compose_page(commune, values, 422, invalid.errors)
        session.commit()
        target = url_for(
            "dashboard.broadcast", commune=commune.slug, broadcast_id=broadcast.id, done="sent"
        )
        return redirect(target, 303)
    try:
        estimate = broadcast_edit.preview(session, commune, values)
    except FormInvalid as invalid:
        return _compose_page(commune, values, 422, invalid.errors)
    preview = preview_data(estimate, values, values.get("whatsapp_template"))
    return _compose_page(commune, values, preview=preview)


@bp.post("/<commune>/broadcasts/preview")
@commune_page(Capability.SEND_BROADCASTS)
def broadcast_preview(commune: Commune):
    """JSON for static/compose.js: the preview, or {"ok": false, "errors": {...}} with 422."""
    values = _form_values()
    try:
        estimate = broadcast_edit.preview(get_session(), commune, values)
    except FormInvalid as invalid:
        return jsonify({"ok": False, "errors": invalid.errors}), 422
    return jsonify(preview_data(estimate, values, values.get("whatsapp_template")))


def _progress(broadcast: Broadcast) -> dict[str, Any]:
    counts = {name: getattr(broadcast, f"count_{name}") or 0 for name in COUNTERS}
    total = sum(counts.values())
    handed = counts["sent"] + counts["delivered"] + counts["failed"]
    finished = broadcast.status in (BroadcastStatus.DONE, BroadcastStatus.CANCELLED)
    percent = (
        100 if finished and total else (100 * (total - counts["queued"]) // total if total else 0)
    )
    lang = g.get("lang")
    return {
        "counts": counts,
        "total": total,
        "percent": percent,
        "rate": format_percent(counts["delivered"], handed, lang) if handed else "–",
    }


def _broadcast_page(
    commune: Commune, broadcast_id: int, status: int = 200, error: str | None = None
):
    broadcast = broadcast_edit.broadcast_of(get_session(), commune, broadcast_id)
    if broadcast is None:
        raise NotFound()
    done = request.args.get("done")
    page = render_template(
        "dashboard/broadcasts/show.html",
        commune=commune,
        broadcast=broadcast,
        progress=_progress(broadcast),
        counters=COUNTERS,
        done=done if done in _DONE else None,
        error=error,
    )
    headers = {}
    due = broadcast.status is BroadcastStatus.SCHEDULED and broadcast.scheduled_at is not None
    if broadcast.status in _RUNNING or (due and broadcast.scheduled_at <= utcnow()):
        # To the bare URL: a `?done=` confirmation is said once, not after each reload.
        plain = url_for("dashboard.broadcast", commune=commune.slug, broadcast_id=broadcast.id)
        headers["Refresh"] = f"{REFRESH_SECONDS}; url={plain}"
    return page, status, headers


@bp.get("/<commune>/broadcasts/<int:broadcast_id>")
@commune_page(Capability.READ)
def broadcast(commune: Commune, broadcast_id: int):
    return _broadcast_page(commune, broadcast_id)


@bp.post("/<commune>/broadcasts/<int:broadcast_id>/<action>")
@commune_page(Capability.SEND_BROADCASTS)
def broadcast_control(commune: Commune, broadcast_id: int, action: str):
    control = CONTROLS.get(action)
    session = get_session()
    found = broadcast_edit.broadcast_of(session, commune, broadcast_id)
    if control is None or found is None:
        raise NotFound()
    try:
        control(session, g.staff, commune, found)
    except FormInvalid as invalid:
        session.rollback()
        return _broadcast_page(commune, broadcast_id, 409, invalid.errors.get("status"))
    session.commit()
    target = url_for(
        "dashboard.broadcast", commune=commune.slug, broadcast_id=found.id, done=action
    )
    return redirect(target, 303)
