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


def test_a_long_paragraph_fills_the_first_page_up_to_a_clause_end() -> None:
    # A title, then one sentence too long for what is left of the page: the
    # first page must not show the title alone, nor cut inside "51,9 milliards".
    text = (
        "Budget 2025 de Cotonou (vote) : recettes 51,9 milliards F CFA, "
        "depenses 51,9 milliards F CFA, soit un budget en equilibre parfait."
    )
    screens = _pages(
        Reply(title="Budget (Donnees d'exemple)", text=text),
        (Option("sms", "Recevoir par SMS"),),
        pinned=1,
    )
    first_text = screens[0].splitlines()[1]
    assert first_text.endswith("F CFA,") and "51,9 milliards" in first_text
    assert screens[1].startswith("CON depenses 51,9 milliards F CFA,")
    assert " ".join(" ".join(screens).split()).count("51,9 milliards") == 2


def test_a_paragraph_without_a_clause_end_moves_whole_to_the_next_page() -> None:
    title = "Titre " * 13  # 78 characters: about 50 are left on the first page
    words = " ".join(WORDS[:12])  # 83 characters, no clause end: nowhere to cut cleanly
    screens = _pages(Reply(title=title.strip(), text=words), ())
    assert "mot" not in screens[0]
    assert screens[1].startswith("CON " + words + "\n")
