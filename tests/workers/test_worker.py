"""AppWorker runs jobs in the app it was given, built once."""

from sqlalchemy import select

from bot import models
from bot.redis import QUEUE_NAMES, get_queue, get_redis
from workers.worker import AppWorker

SMS = {
    "from": "+2290196112233",
    "to": "7722",
    "text": "Bonjour",
    "date": "2026-11-21 10:00:00",
    "id": "fork-1",
}


def test_jobs_store_and_answer_in_the_given_app(app, client, session) -> None:
    assert client.post("/webhooks/at/sms", data=SMS).status_code == 200
    worker = AppWorker(
        [get_queue(name, app) for name in QUEUE_NAMES], connection=get_redis(app), app=app
    )
    assert worker.work(burst=True)
    [inbound] = session.scalars(select(models.InboundMessage)).all()
    [reply] = session.scalars(select(models.OutboundMessage)).all()
    assert inbound.external_id == "fork-1"
    assert reply.contact_id == inbound.contact_id
