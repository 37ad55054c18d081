"""Checks on every simulated-user reply: facts it invents, a stop before the task's writes,
and the stop guard that reads the domain's own write tools.

Deterministic, no model: they run on each candidate reply (a failing candidate is resampled
as the other guards are) and each reply sent is recorded with what fired.

- **Invented facts**: an id, an email, a number, a date or a full name in the reply that is
  in neither the instruction, the persona nor anything the agent said (τ² found simulators
  that invent a passenger or an order id behind many failed and, worse, passed dialogues).
- **Premature stop**: the user ends the conversation while a write the task's gold makes has
  not happened in the episode's sandbox and the agent is still at work (it asked something
  or said what it will do; not when it said it is done or cannot do it).
- **Instruction copied verbatim**: counted, not rejected (the judge penalises it).
- **The stop guard** refuses a stop only while the agent waits for a yes to a call of one of
  *this domain's* write tools (named by the tool's verb or a synonym): a read, an offer to
  transfer to a human, or a closing that mentions writes already done never holds the user.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# An id: a token with a digit and a letter or a '#', '_' ('#W2378156', 'credit_card_1234',
# 'HAT018', 'ZFA04Y'), or a long digit run ('1008292230').
_ID = re.compile(r"#?\b(?=[\w#]*\d)(?=[\w#]*[A-Za-z_#])[\w#]{4,}\b|\b\d{5,}\b")
_NUMBER = re.compile(
    r"(?<![\w.,])\$?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{2,}(?:\.\d+)?|\d+\.\d+)(?![\w])"
)
_NAME = re.compile(r"\b([A-Z][a-z]+)\s+([A-Z][a-z]+)\b")
_NOT_NAMES = {
    "I", "Hi", "Hello", "Thanks", "Thank", "Yes", "No", "Okay", "Ok", "Sure", "Please",
    "Great", "Perfect", "Sounds", "Good", "That", "This", "The", "And", "But", "Also", "My",
    "Could", "Can", "Would", "Will", "Let", "Just", "So", "Well", "Actually", "Oh",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday",
}  # fmt: skip
_REFUSAL = re.compile(
    r"\b(cannot|can't|can not|unable|not able|not possible|not eligible|not allowed|"
    r"won't be able|transfer(?:red|ring)? you|human agent)\b",
    re.IGNORECASE,
)


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(",", "").split())


def _number_key(raw: str) -> str:
    value = raw.replace(",", "").lstrip("$")
    return value[:-2] if value.endswith(".0") else value.removesuffix(".00")


def facts_in(text: str) -> list[str]:
    """The checkable facts a message states: ids, emails, dates, numbers, full names."""
    found = [m.group(0) for m in _EMAIL.finditer(text)]
    rest = _EMAIL.sub(" ", text)
    found += [m.group(0) for m in _DATE.finditer(rest)]
    rest = _DATE.sub(" ", rest)
    found += [m.group(0) for m in _ID.finditer(rest)]
    found += [m.group(1) for m in _NUMBER.finditer(_ID.sub(" ", rest))]
    for first, last in _NAME.findall(rest):
        if first not in _NOT_NAMES and last not in _NOT_NAMES:
            found.append(f"{first} {last}")
    return list(dict.fromkeys(found))


def invented_facts(reply: str, known: list[str]) -> list[str]:
    """Facts in `reply` found in none of the `known` texts (instruction, persona, what the
    agent said). Numbers compare as numbers ($1,299.00 is 1299), the rest case-blind."""
    corpus = _norm(" ".join(known))
    numbers = {_number_key(n) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", " ".join(known))}
    out = []
    for fact in facts_in(reply):
        if re.fullmatch(r"\$?[\d,]+(?:\.\d+)?", fact):
            if _number_key(fact) not in numbers:
                out.append(fact)
        elif _norm(fact) not in corpus:
            out.append(fact)
    return out


# The agent closed the matter: it says the work is done, or offers nothing more. A user who
# stops then is right to (if the agent lied, that is the agent's failure).
_CLOSED = re.compile(
    r"\b(all done|done|completed?|taken care of|has been|have been|was|were|successfully|"
    r"anything else|something else|any other|have a (great|good|nice)|goodbye|take care)\b",
    re.IGNORECASE,
)


def premature_stop(
    trace: list[Any], gold_actions: list[dict[str, Any]], write_names: set[str], agent_last: str
) -> list[str]:
    """The gold's writes not yet made in the episode (by tool, with multiplicity), when the
    user stops while the agent is still at work: asking, about to act. Nothing when the
    agent's last words close the matter (done, anything else?) or say it cannot be done."""
    if _REFUSAL.search(agent_last or "") or _CLOSED.search(agent_last or ""):
        return []
    wanted = Counter(a["name"] for a in gold_actions if a["name"] in write_names)
    done = Counter(e.name for e in trace if e.ok and e.name in write_names)
    return sorted((wanted - done).elements())


# -- the stop guard: the domain's own writes --------------------------------------------------

_SYNONYMS = {
    "cancel": ("cancel",),
    "modify": ("modify", "change", "update", "switch"),
    "update": ("update", "change", "modify", "add", "remove", "upgrade", "downgrade"),
    "exchange": ("exchange", "swap", "replace"),
    "return": ("return", "refund"),
    "book": ("book", "reserve"),
    "send": ("send", "issue"),
    "add": ("add",),
    "remove": ("remove", "delete"),
    "delete": ("delete", "remove"),
    "create": ("create", "open", "file"),
    "set": ("set", "change"),
    "pay": ("pay", "charge"),
    "transfer": ("transfer",),
}
# For a guard with no domain at hand: tool names whose verbs are the common writes.
ANY_WRITES = tuple(
    f"{verb}_" for verb in ("cancel", "exchange", "return", "modify", "update", "book", "send",
                            "add", "remove", "replace", "pay", "create", "delete", "set")
)  # fmt: skip
_DONE = (
    r"(?<!been )(?<!was )(?<!were )(?<!be )(?<!is )(?<!are )(?<!have )(?<!has )(?<!i've )"
    r"(?<!already )(?<!successfully )(?<!now )"
)
_ASKS = re.compile(
    r"\?|\(yes/no\)|\byes or no\b|\bplease confirm\b|\bconfirm with yes\b|\breply yes\b|"
    r"\blet me know if you (want|would like|'d like) me to\b",
    re.IGNORECASE,
)
_GENERIC = re.compile(
    r"\b(anything (else|more)|something else|any other|another order|any more questions|"
    r"else (i|we) can|need anything|how can i help|help you with today|further assistance|"
    r"help (you )?further)\b",
    re.IGNORECASE,
)
_TRANSFER_OFFER = re.compile(
    r"\b(transfer|connect|escalate)\w*\b.*\b(human|agent|representative|specialist)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


_NOUNS = {
    "cancel": ("cancellation", "cancelling", "cancelled", "canceling", "canceled"),
    "modify": ("modification",),
    "add": ("addition",),
    "remove": ("removal",),
    "book": ("booking",),
    "send": ("sent",),
    "pay": ("paid", "payment"),
    "reserve": ("reservation",),
}


def _forms(verb: str) -> set[str]:
    """A verb's inflections (and its nouns): modify, modifies, modified, modifying, ..."""
    forms = {verb, verb + "s", verb + "es", verb + "ed", verb + "d", verb + "ing"}
    if verb.endswith("e"):
        forms.add(verb[:-1] + "ing")
    if verb.endswith("y"):
        forms |= {verb[:-1] + "ies", verb[:-1] + "ied"}
    return forms | set(_NOUNS.get(verb, ()))


@lru_cache(maxsize=64)
def write_pattern(write_names: tuple[str, ...]) -> re.Pattern[str]:
    """The words that name one of these write tools: each tool's verb (its name's first
    word) and that verb's synonyms, in any form but a done one ('has been cancelled')."""
    words: set[str] = set()
    for name in write_names:
        verb = name.split("_")[0].lower()
        for synonym in _SYNONYMS.get(verb, (verb,)):
            words |= _forms(synonym)
    if not words:
        return re.compile(r"(?!x)x")  # no writes: nothing holds the user back
    alternatives = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
    return re.compile(_DONE + r"\b(" + alternatives + r")\b", re.IGNORECASE)


def awaiting_write_confirmation(agent_text: str, write_names: tuple[str, ...]) -> bool:
    """The agent's last words ask for a yes to a write of this domain."""
    sentences = [
        s
        for s in _SENTENCE.split(agent_text or "")
        if not _GENERIC.search(s) and not _TRANSFER_OFFER.search(s)
    ]
    if not any(_ASKS.search(s) for s in sentences):
        return False
    return bool(write_pattern(write_names).search(" ".join(sentences)))
