"""Placeholder until this flow is written in this change."""

from bot.flows.base import Answer, Context, Step

STEPS: dict[str, Step] = {}


def start(ctx: Context, answer: Answer) -> str:
    return "participate"
