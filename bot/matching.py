"""What a citizen's free text names: a commune, a topic, a year, a global command, an option.

Pure functions, called on every SMS/WhatsApp message: no database, no Redis.

Typo tolerance is one rule everywhere (`_max_edits`): a word of fewer than 5 letters must
be exact (short words collide: "ca", "de", "le", "pta"), one edit for 5-8 letters ("bidget",
"cotnou", "langeu"), two from 9 letters ("redevabilte", "misseretté"). Edits are OSA
distance (an adjacent swap counts as one edit, the commonest phone typo) rather than a
fuzz.ratio threshold: one wrong letter in a 6-letter word scores only 83 ("calavu"), and a
ratio of 80 would let 4-letter words drift. A correctly spelled common word is never read
as a typo of a keyword (`_COMMON_WORDS`; topic words are never read as communes and back).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.optout import STOP_WORDS, is_stop

# Longer messages are cut: a question names its commune and topic well before 300 words
# (a full 4096-character WhatsApp message), and garbage must stay cheap.
MAX_TOKENS = 300
# No keyword is longer than this; a longer token is garbage, not a typo.
_MAX_WORD = 30

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})  # NFKD leaves them whole
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")

# Real words that sit one or two edits from a keyword ("urgent" ~ "argent", "mairie" ~
# "maire", "coton" ~ "cotonu"): spelled right, so never corrected into the keyword.
_COMMON_WORDS = frozenset(
    {"mairie", "marie", "mairies", "coton", "agent", "agents", "urgent", "major", "compter",
     "comment", "contre", "abonne", "passion", "mission", "suit", "quite", "budgetaire"}
)  # fmt: skip


def fold(text: str) -> str:
    """Lowercase, no accents, punctuation/apostrophes/emoji as spaces, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    # Accents go; any other non-ASCII character (emoji, ’, «) separates words.
    bare = "".join(
        c if c.isascii() else "" if unicodedata.combining(c) else " " for c in decomposed
    )
    return " ".join(_NON_ALNUM.sub(" ", bare).split())


def _tokens(text: str) -> list[str]:
    return fold(text).split()[:MAX_TOKENS]


def _max_edits(length: int) -> int:
    return 0 if length < 5 else 1 if length <= 8 else 2


def _correct(token: str, vocabulary: tuple[str, ...], protected: Iterable[str] = ()) -> str:
    """`token`, or the vocabulary word it is a typo of (within both words' edit budget)."""
    if token in vocabulary or token in _COMMON_WORDS or token in protected:
        return token
    budget = _max_edits(len(token))
    if budget == 0 or len(token) > _MAX_WORD:
        return token
    found = process.extractOne(token, vocabulary, scorer=OSA.distance, score_cutoff=budget)
    if found is None or found[1] > _max_edits(len(found[0])):
        return token
    return found[0]


# --- communes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A commune as the matcher knows it (the engine builds these from the database)."""

    slug: str
    name: str
    variants: tuple[str, ...]


_Index = dict[tuple[str, ...], str]


@lru_cache(maxsize=32)  # the engine passes the same communes on every message
def _commune_index(places: tuple[Place, ...]) -> tuple[_Index, tuple[str, ...]]:
    """Folded spelling (as words, and glued: "abomeycalavi") -> slug, and the words used."""
    index: dict[tuple[str, ...], str] = {}
    for place in places:
        for spelling in (place.name, place.slug, *place.variants):
            words = tuple(fold(spelling).split())
            if words:
                index.setdefault(words, place.slug)
                index.setdefault(("".join(words),), place.slug)
    return index, tuple(sorted({word for words in index for word in words}))


def match_commune(text: str, places: Sequence[Place]) -> str | None:
    """The slug of the first commune named in `text`, longest spelling first.

    "abomey" alone matches nothing: it is not a spelling of Abomey-Calavi (Abomey is
    another commune), only the pair "abomey calavi" or "calavi" is.
    """
    index, vocabulary = _commune_index(tuple(places))
    words = [_correct(t, vocabulary, _TOPIC_VOCABULARY) for t in _tokens(text)]
    longest = max((len(key) for key in index), default=0)
    for start in range(len(words)):
        for size in range(min(longest, len(words) - start), 0, -1):
            slug = index.get(tuple(words[start : start + size]))
            if slug is not None:
                return slug
    return None


# --- topics ----------------------------------------------------------------------------

# Precedence: when several topics are named, the first in this order wins, most specific
# first ("session de reddition" -> reddition, "compte administratif du budget" ->
# compte_administratif, "budget de la commune" -> budget). Phrases are read before single
# words and use them up ("reddition de comptes" is not also "comptes" -> CA).
TOPICS = (
    "budget", "compte_administratif", "projects", "contracts", "agenda",
    "council", "reddition", "good_practices", "about",
)  # fmt: skip
_PRECEDENCE = (
    "reddition", "compte_administratif", "good_practices", "contracts", "projects",
    "budget", "council", "agenda", "about",
)  # fmt: skip
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "budget": ("budget", "budgets", "bujet", "budjet", "finances", "finance", "argent",
               "recettes", "recette", "depenses", "depense", "money", "revenue", "revenues",
               "spending", "expenditure", "expenditures"),
    "compte_administratif": ("compte administratif", "comptes administratifs", "comptes",
                             "compte", "administrative account", "ca"),
    "projects": ("pta", "projets", "projet", "projects", "project", "travaux", "chantiers",
                 "chantier", "plan de travail", "plan annuel", "work plan"),
    "contracts": ("marches", "marche", "marches publics", "marche public", "contrats",
                  "contrat", "contracts", "contract", "appels d offres", "appel d offres",
                  "appel d offre", "appels d offre", "tenders", "tender", "procurement"),
    "agenda": ("agenda", "maire", "mayor", "rendez vous", "rdv", "calendar", "calendrier",
               "schedule"),
    "council": ("conseil", "conseil municipal", "session", "sessions", "council",
                "deliberation", "deliberations", "decision", "decisions", "compte rendu",
                "comptes rendus", "proces verbal", "meeting"),
    "reddition": ("reddition", "reddition de comptes", "reddition des comptes",
                  "rendre compte", "rendre des comptes", "redevabilite", "accountability",
                  "audience publique", "audiences publiques", "public hearing"),
    "good_practices": ("bonnes pratiques", "bonne pratique", "pratiques", "pratique",
                       "good practices", "good practice", "best practices", "practices"),
    "about": ("a propos", "apropos", "about", "commune", "infos", "info", "informations",
              "population"),
}  # fmt: skip
# "ca" is also the French "ça" (often typed without its cedilla): it counts only when
# nothing else names a topic, and never in a message that writes "ça" ("ça va ?").
_WEAK_KEYWORDS = frozenset({("ca",)})
_CA_WORD = re.compile(r"\bça\b", re.IGNORECASE)
_PHRASES = {tuple(k.split()): topic for topic, keys in _KEYWORDS.items() for k in keys}
_TOPIC_VOCABULARY = tuple(sorted({word for phrase in _PHRASES for word in phrase}))
_LONGEST_PHRASE = max(len(phrase) for phrase in _PHRASES)


def _match_topic(text: str, protected: Iterable[str]) -> str | None:
    words = [_correct(t, _TOPIC_VOCABULARY, protected) for t in _tokens(text)]
    used = [False] * len(words)
    found: set[str] = set()
    weak: str | None = None
    for size in range(_LONGEST_PHRASE, 0, -1):
        for start in range(len(words) - size + 1):
            phrase = tuple(words[start : start + size])
            if phrase not in _PHRASES or any(used[start : start + size]):
                continue
            used[start : start + size] = [True] * size
            if phrase in _WEAK_KEYWORDS:
                weak = weak or _PHRASES[phrase]
            else:
                found.add(_PHRASES[phrase])
    if weak and _CA_WORD.search(text):
        weak = None
    return next((topic for topic in _PRECEDENCE if topic in found), weak)


@dataclass(frozen=True)
class Intent:
    topic: str | None
    commune: str | None
    year: int | None


def parse_intent(text: str, places: Sequence[Place]) -> Intent:
    """Topic, commune and year of a keyword SMS ("bujet cotonu 2025") or a question."""
    _, commune_words = _commune_index(tuple(places))
    year = _YEAR.search(fold(text))
    return Intent(
        topic=_match_topic(text, commune_words),
        commune=match_commune(text, places),
        year=int(year.group(1)) if year else None,
    )


# --- global commands -------------------------------------------------------------------

GLOBAL_COMMANDS: dict[str, str] = {
    **dict.fromkeys(STOP_WORDS, "stop"),  # the very words optout.is_stop obeys
    **dict.fromkeys(("aide", "help", "?"), "help"),
    **dict.fromkeys(("menu", "accueil", "home"), "menu"),
    **dict.fromkeys(("langue", "language", "lang"), "language"),
    **dict.fromkeys(("suite", "next", "plus", "more"), "next"),
}
# STOP is never guessed: it must agree with optout.is_stop, which is exact.
_FUZZY_COMMANDS = tuple(w for w, c in GLOBAL_COMMANDS.items() if c != "stop" and len(w) >= 5)


def global_command(text: str) -> str | None:
    """The command the WHOLE message is ("Menu !", "langeu"), else None ("le menu du conseil")."""
    if is_stop(text):
        return "stop"
    if text.strip() and not text.strip().strip("?!. "):
        return "help" if "?" in text else None
    words = fold(text).split()
    if len(words) != 1:
        return GLOBAL_COMMANDS.get("".join(words)) if words else None
    return GLOBAL_COMMANDS.get(_correct(words[0], _FUZZY_COMMANDS))


# --- options ---------------------------------------------------------------------------

# Filler words that say nothing about which option is meant.
_FILLER = frozenset(
    {"le", "la", "les", "l", "de", "du", "des", "d", "un", "une", "a", "au", "aux", "et",
     "en", "the", "of", "for", "an", "to", "me", "my", "i", "je", "veux", "voudrais", "voir",
     "svp", "stp", "merci", "please", "thanks", "show", "want"}
)  # fmt: skip
# An option is chosen when the reply's words are, on average, at least this close to its
# words (1 = exact, 1 - edits/length for a typo, 0 = unrelated: "budget cotonou" is 0.5
# to "Budget", too weak), and clearly closer than to any other option.
_OPTION_THRESHOLD = 0.75
_OPTION_MARGIN = 0.1


def _similarity(word: str, label_words: list[str]) -> float:
    best = 0.0
    for candidate in label_words:
        if word == candidate:
            return 1.0
        budget = min(_max_edits(len(word)), _max_edits(len(candidate)))
        edits = OSA.distance(word, candidate, score_cutoff=budget)
        if budget and edits <= budget:
            best = max(best, 1 - edits / max(len(word), len(candidate)))
    return best


def pick_option(text: str, labels: Sequence[str]) -> int | None:
    """The index of the option a reply picks: its number ("2"), or its words.

    isascii: "²" and other Unicode digits are not option numbers (int() refuses them).
    """
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text) - 1 if 1 <= int(text) <= len(labels) else None
    return match_option(text, labels)


def match_option(text: str, labels: Sequence[str]) -> int | None:
    """The index of the option a free-text reply names, None when ambiguous or weak."""
    words = [w for w in _tokens(text) if w not in _FILLER and len(w) <= _MAX_WORD]
    if not words:
        return None
    folded = [fold(label) for label in labels]
    glued = "".join(words)
    exact = [i for i, label in enumerate(folded) if label.replace(" ", "") == glued]
    if len(exact) == 1:
        return exact[0]
    scores = [sum(_similarity(w, label.split()) for w in words) / len(words) for label in folded]
    ranked = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
    if not ranked or scores[ranked[0]] < _OPTION_THRESHOLD:
        return None
    if len(ranked) > 1 and scores[ranked[1]] > scores[ranked[0]] - _OPTION_MARGIN:
        return None
    return ranked[0]


# --- participation keywords ------------------------------------------------------------

# The first word (or two) of a message that starts a participation flow; what follows is
# that flow's first answer ("AVIS la route est coupee", "SUIVI AV-7K2P").
SHORTCUT_WORDS: dict[str, tuple[str, ...]] = {
    "feedback": ("avis", "plainte", "plaintes", "signaler", "signalement", "reclamation",
                 "complaint", "report", "feedback"),
    "track": ("suivi", "suivre", "track"),
    "question": ("question", "questions", "ask"),
    "subscribe": ("abonne", "abonner", "abonnement", "sabonner", "inscription", "subscribe",
                  "start", "alertes", "alerts"),
    "poll": ("sondage", "sondages", "vote", "voter", "poll", "polls"),
    "mydata": ("mes donnees", "mesdonnees", "my data", "mydata"),
    "erase": ("supprimer", "effacer", "delete", "erase"),
}  # fmt: skip
_SHORTCUTS = {tuple(w.split()): name for name, words in SHORTCUT_WORDS.items() for w in words}
_SHORTCUT_VOCABULARY = tuple(sorted({w for words in _SHORTCUTS for w in words}))
_LEADING_WORD = re.compile(r"\s*[^\w\s]*\s*([\w'’-]+)", re.UNICODE)


def match_shortcut(text: str) -> tuple[str, str] | None:
    """(flow, the rest of the message as typed) when the message starts with a keyword."""
    words: list[str] = []
    ends: list[int] = []
    position = 0
    while len(words) < 2:
        found = _LEADING_WORD.match(text, position)
        if found is None:
            break
        folded = fold(found.group(1)).replace(" ", "")
        words.append(_correct(folded, _SHORTCUT_VOCABULARY))
        position = found.end()
        ends.append(position)
    for size in (2, 1):
        name = _SHORTCUTS.get(tuple(words[:size])) if len(words) >= size else None
        if name is not None:
            return name, text[ends[size - 1] :].strip(" \t\r\n:;,.-")
    return None


# Subscription topics (bot/models/enums.py Topic) and the words that name them.
_SUBSCRIPTION_TOPICS: dict[str, tuple[str, ...]] = {
    "all": ("tout", "tous", "toutes", "all", "everything"),
    "urgences": ("urgence", "urgences", "urgent", "emergency", "emergencies", "alerte"),
    "reddition": ("reddition", "redevabilite", "accountability"),
    "sessions": ("session", "sessions", "conseil", "council"),
    "budget": ("budget", "budgets", "finances"),
    "digest": ("resume", "resumes", "hebdo", "hebdomadaire", "digest", "summary", "weekly"),
}
_SUBSCRIPTION_WORDS = {w: topic for topic, words in _SUBSCRIPTION_TOPICS.items() for w in words}
_SUBSCRIPTION_VOCABULARY = tuple(sorted(_SUBSCRIPTION_WORDS))


def match_subscription_topic(text: str) -> str | None:
    """The first subscription topic `text` names ("ABONNE COTONOU BUDGET" -> "budget")."""
    for token in _tokens(text):
        word = _correct(token, _SUBSCRIPTION_VOCABULARY)
        if word in _SUBSCRIPTION_WORDS:
            return _SUBSCRIPTION_WORDS[word]
    return None
