"""Subscribing to alerts: a commune, a topic, the consent text, then an explicit OUI.

`ABONNE CALAVI BUDGET` (or START, SUBSCRIBE, the menu) asks only what is
missing. Nothing is recorded before the OUI: the consent step names the
purpose, the channel and how to stop, and only "Oui, j'accepte" (a typed OUI
picks it) subscribes (bot/participation/subscriptions.py).
"""

from __future__ import annotations

from bot.content.cache import commune_id, communes
from bot.flows.base import Answer, Context, Go, Option, Reply, Stay, Step, Transition
from bot.flows.info_common import of_name
from bot.flows.preferences import set_commune
from bot.i18n import t
from bot.matching import Place, fold, match_commune, match_subscription_topic
from bot.models.enums import Topic
from bot.participation import subscriptions

_TOPICS = frozenset(topic.value for topic in Topic)


def start(ctx: Context, answer: Answer) -> str:
    """Take the commune and topic from the words after the keyword; ask for the rest."""
    ctx.draft.clear()
    if not answer.text:
        return "subscribe.topic"
    places = [Place(c.slug, c.name, c.variants) for c in communes(ctx.session)]
    slug = match_commune(answer.text, places)
    if slug is not None:
        set_commune(ctx, slug)
    topic = match_subscription_topic(answer.text)
    if topic is None:
        return "subscribe.topic"
    ctx.draft["topic"] = topic
    return "subscribe.consent"


def _wording(ctx: Context) -> dict[str, str] | None:
    """What the texts name: the alerts, the commune, the channel; None when unknown."""
    topic = ctx.draft.get("topic")
    name = next((c.name for c in communes(ctx.session) if c.slug == ctx.commune_slug), None)
    if topic not in _TOPICS or name is None:
        return None
    channel = subscriptions.alerts_channel(Topic(topic), ctx.channel)
    return {
        "what": t(f"subscribe.what.{topic}", ctx.lang),
        "of_commune": of_name(name, ctx.lang),
        "channel": t(f"subscribe.channel.{channel.value}", ctx.lang),
    }


class TopicStep:
    free_text = False
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        options = tuple(
            Option(topic.value, t(f"subscribe.topic.{topic}", ctx.lang)) for topic in Topic
        )
        return Reply(
            title=t("subscribe.title", ctx.lang),
            text=t("subscribe.choose_topic", ctx.lang),
            options=options,
        )

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option in _TOPICS:
            ctx.draft["topic"] = answer.option
            return Go("subscribe.consent")
        return Stay(t("menu.invalid", ctx.lang))


_YES_NO = {"oui": "yes", "yes": "yes", "non": "no", "no": "no"}
"""Explicit words only: consent is never guessed from a typo."""


class ConsentStep:
    """The consent text and its two answers; says so instead when already subscribed.

    Reached without a topic in the draft (a conversation stored without one), it
    asks for the topic first rather than fail.
    """

    # Free text: "OUI" is consent in either language ("YES" too), whatever the labels say.
    free_text = True
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        wording = _wording(ctx)
        if wording is None:
            return TOPIC.prompt(ctx)
        if self._already(ctx):
            return Reply(text=t("subscribe.already", ctx.lang, **wording), end=True)
        options = (
            Option("yes", t("subscribe.yes", ctx.lang)),
            Option("no", t("subscribe.no", ctx.lang)),
        )
        return Reply(
            title=t("subscribe.title", ctx.lang),
            text=t("subscribe.consent", ctx.lang, **wording),
            options=options,
        )

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if _wording(ctx) is None:
            return TOPIC.handle(ctx, answer)
        choice = answer.option or _YES_NO.get(fold(answer.text))
        if choice == "no":
            return Go("subscribe.declined")
        if choice != "yes":
            return Stay(t("menu.invalid", ctx.lang))
        commune = commune_id(ctx.session, ctx.commune_slug or "")
        assert commune is not None  # _wording found the commune
        subscriptions.subscribe(
            ctx.session,
            ctx.contact_id,
            commune,
            Topic(ctx.draft["topic"]),
            ctx.channel,
            ctx.lang,
        )
        return Go("subscribe.done")

    @staticmethod
    def _already(ctx: Context) -> bool:
        commune = commune_id(ctx.session, ctx.commune_slug or "")
        topic = Topic(ctx.draft["topic"])
        return commune is not None and subscriptions.is_subscribed(
            ctx.session, ctx.contact_id, commune, topic
        )


class EndStep:
    """A last word, naming the alerts when they are known: the dialog ends with it."""

    free_text = False
    needs_commune = False

    def __init__(self, key: str, plain_key: str) -> None:
        self.key, self.plain_key = key, plain_key

    def prompt(self, ctx: Context) -> Reply:
        wording = _wording(ctx)
        text = t(self.key, ctx.lang, **wording) if wording else t(self.plain_key, ctx.lang)
        return Reply(text=text, end=True)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        return Stay(t("menu.invalid", ctx.lang))


TOPIC = TopicStep()

STEPS: dict[str, Step] = {
    "subscribe.topic": TOPIC,
    "subscribe.consent": ConsentStep(),
    "subscribe.done": EndStep("subscribe.done", "subscribe.done_plain"),
    "subscribe.declined": EndStep("subscribe.declined", "subscribe.declined"),
}
