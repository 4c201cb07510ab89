"""What a wait-for-a-reply step asks of a reply: its test (any text, words, a number,
yes), and whether the step is complete. Pure functions of the step and the text."""

import re
import unicodedata
from typing import Any

from .models import FlowStep

# Yes, in the languages of the seed manuals' markets (English, Spanish, Portuguese,
# French): a campaign may be read in any of them, and none of these means no in
# another.
YES_WORDS = frozenset(
    {"yes", "y", "yeah", "yep", "si", "s", "sim", "oui", "ok", "okay", "vale", "claro"}
)
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")


def _plain(text: str) -> str:
    """Lower case, accents dropped: 'Sí' and 'SI' are 'si'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _plain(text))


def reply_number(text: str) -> str | None:
    """The first number written in the reply, as 1234.5: a comma or a point as the
    decimal mark, the other (or either, before groups of three digits) separating
    thousands, as the markets write them: 1200,50 and 1.200,50 in Spain, $1,500
    and 1,500.50 in Mexico."""
    found = NUMBER.search(text)
    if found is None:
        return None
    number = found.group(0)
    marks = [ch for ch in number if ch in ".,"]
    if not marks:
        return number
    last = number.rindex(marks[-1])
    single_kind = len(set(marks)) == 1
    if single_kind and (len(marks) > 1 or len(number) - last - 1 == 3):
        # 2.000.000, $1,500: thousands only.
        return number.replace(marks[0], "")
    whole = number[:last].replace(".", "").replace(",", "")
    return f"{whole}.{number[last + 1 :]}"


def reply_passes(reply: dict[str, Any], text: str) -> bool:
    """Whether ``text`` passes the test of a reply step's snapshot ``reply``."""
    test = reply.get("test") or FlowStep.ReplyTest.ANY
    if test == FlowStep.ReplyTest.ANY:
        return True
    if test == FlowStep.ReplyTest.NUMBER:
        return reply_number(text) is not None
    words = _words(text)
    if test == FlowStep.ReplyTest.YES_NO:
        return bool(words) and words[0] in YES_WORDS
    wanted = [_plain(word).strip() for word in (reply.get("words") or "").split(",")]
    wanted = [word for word in wanted if word]
    said = " ".join(words)
    return any(
        word in words or (" " in word and f" {word} " in f" {said} ") for word in wanted
    )


def reply_kept_value(reply: dict[str, Any], text: str) -> str:
    """What a step that saves the reply keeps: the number for a number test, else
    the text."""
    if reply.get("test") == FlowStep.ReplyTest.NUMBER:
        return reply_number(text) or text.strip()
    return text.strip()


VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def reply_step_problems(step: FlowStep, where: str) -> list[str]:
    """What is missing or wrong in a wait-for-a-reply step."""
    problems = []
    if step.channel is None:
        problems.append(
            f"{where}: choose the channel the reply comes on (that of the question)."
        )
    if step.wait is None or step.wait.total_seconds() <= 0:
        problems.append(
            f"{where}: say how long to wait for the reply (e.g. 1 00:00:00 for a day)."
        )
    test = step.reply_test or FlowStep.ReplyTest.ANY
    if step.yes_step is None:
        problems.append(f"{where}: say where a reply goes ('yes: go to').")
    if test != FlowStep.ReplyTest.ANY and step.no_step is None:
        problems.append(
            f"{where}: say where a reply that fails the test goes ('no: go to')."
        )
    if step.timeout_step is None:
        problems.append(f"{where}: say where the contact goes without a reply.")
    if test == FlowStep.ReplyTest.KEYWORDS and not step.reply_words.strip(" ,"):
        problems.append(f"{where}: give the words the reply is tested for.")
    name = step.save_reply_as.strip()
    if name and not VARIABLE_NAME.match(name):
        problems.append(
            f"{where}: {name!r} cannot name a variable (letters, digits and _, "
            "starting with a letter)."
        )
    if name.upper() in {"PHONE", "NAME", "EMAIL", "OPTED_OUT"}:
        problems.append(
            f"{where}: {name} is a contact field; keep the reply elsewhere."
        )
    return problems
