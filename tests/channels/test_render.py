"""USSD paging keeps every word: long lines wrap to the room a page really has."""

from __future__ import annotations

import pytest

from bot.channels import render
from bot.flows.base import Option, Reply
from bot.gsm import is_gsm7

WORDS = [f"mot{n:03d}" for n in range(120)]


def _pages(reply: Reply, options: tuple[Option, ...], pinned: int = 0) -> list[str]:
    first = render.ussd(reply, options, 0, "fr", root=False, pinned=pinned)
    screens = [render.ussd(reply, options, n, "fr", root=False, pinned=pinned).text
               for n in range(first.pages)]  # fmt: skip
    for screen in screens:
        assert len(screen[4:]) <= render.USSD_SCREEN_CHARS and is_gsm7(screen[4:]), screen
    return screens


@pytest.mark.parametrize("pinned", [0, 1])
def test_a_long_line_is_wrapped_never_cut(pinned: int) -> None:
    options = (Option("sms", "Recevoir par SMS"),) if pinned else ()
    screens = _pages(Reply(text=" ".join(WORDS)), options, pinned)
    assert len(screens) > 1
    shown = " ".join(screens).split()
    assert [w for w in shown if w.startswith("mot")] == WORDS


def test_a_long_option_label_is_wrapped_with_its_number() -> None:
    label = "Construire un nouveau marche couvert " * 6
    screens = _pages(Reply(text="Question ?"), (Option("a", label.strip()), Option("b", "Non")))
    text = "\n".join(screens)
    assert "CON 1 Construire" in text and "\n2 Non" in text
    assert text.count("Construire") == 6
