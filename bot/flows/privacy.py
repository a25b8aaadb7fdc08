"""Placeholder until this flow is written in this change."""

from bot.flows.base import Answer, Context, Step

STEPS: dict[str, Step] = {}


def show_data(ctx: Context, answer: Answer) -> str:
    return "participate"


def start_erase(ctx: Context, answer: Answer) -> str:
    return "participate"
