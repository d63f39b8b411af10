"""Buttons as numbered options, for channels without buttons (Zalo, the console).

A reply's buttons become lines "1. Xuất sắc" under its text. The person answers
with the number, or with the option's words typed with or without Vietnamese
diacritics, in any case ("co", "Có", "KHONG"). Buttons whose labels are numbers
already (a score of 0–10, "change answer 3") keep their own number; the others
are numbered after them.

The options a chat was shown are a `Prompt`: kept per chat in the database
(`storage.prompts`), so a number means the same after a restart and in any process.
Only the latest message with options counts, as on a screen without buttons the
person can only see the latest list.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from bot.core.chat import Button, ChatEvent, Outcome, Reply
from bot.core.i18n import Translator
from bot.core.numbers import is_digits
from bot.core.words import fold
from bot.services.runtime import Runtime
from storage import members as member_store
from storage import prompts


@dataclass(frozen=True)
class Option:
    number: int
    label: str
    data: str


@dataclass(frozen=True)
class Prompt:
    """The options one message offered; `typed`: the person may also type a free answer."""

    options: tuple[Option, ...] = ()
    typed: bool = False

    @classmethod
    def of(cls, buttons: list[list[Button]], typed: bool = False) -> Prompt:
        flat = [button for row in buttons for button in row]
        own = [b for b in flat if is_digits(b.label.strip())]
        numbers = [int(b.label) for b in own]
        if len(set(numbers)) != len(numbers):
            own, numbers = [], []  # the labels cannot be numbers of their own
        options = [Option(int(b.label), b.label.strip(), b.data) for b in own]
        after = max(numbers, default=0) + 1
        rest = [b for b in flat if b not in own]
        options += [Option(after + n, b.label, b.data) for n, b in enumerate(rest)]
        return cls(tuple(options), typed)

    def to_json(self) -> dict[str, Any]:
        return {
            "typed": self.typed,
            "options": [[o.number, o.label, o.data] for o in self.options],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prompt:
        options = tuple(Option(int(n), str(label), str(d)) for n, label, d in data["options"])
        return cls(options, bool(data.get("typed")))

    def choose(self, text: str) -> Choice:
        """What `text` picks: an option, nothing (a free answer), or a number that means nothing."""
        stripped = text.strip()
        if stripped.startswith("/") or not self.options:
            return Choice()
        number = stripped.rstrip(".)")
        if is_digits(number) and not self.typed:
            picked = next((o for o in self.options if o.number == int(number)), None)
            return Choice(picked, unknown_number=picked is None)
        words = fold(stripped)
        if not words:
            return Choice()
        exact = [o for o in self.options if fold(o.label) == words]
        if len(exact) == 1:
            return Choice(exact[0])
        starting = [o for o in self.options if fold(o.label).startswith(words)]
        if len(starting) == 1 and len(words) >= 2 and not self.typed:
            return Choice(starting[0])
        return Choice()


@dataclass(frozen=True)
class Choice:
    option: Option | None = None
    unknown_number: bool = False


@dataclass
class Rendered:
    """An outcome as plain texts to send in order, and the prompt they leave behind."""

    texts: list[str] = field(default_factory=list)
    prompt: Prompt | None = None  # None: keep the options shown earlier


def options_text(prompt: Prompt, t: Translator) -> str:
    """The lines that list a prompt's options under a message."""
    _ = t.gettext
    own = [o for o in prompt.options if o.label == str(o.number)]
    rest = [o for o in prompt.options if o not in own]
    heading = _("Or type one of:") if prompt.typed else _("Reply with a number:")
    lines = [heading]
    if own:
        lines.append("  ".join(o.label for o in own))
    lines += [(o.label if prompt.typed else f"{o.number}. {o.label}") for o in rest]
    return "\n".join(lines)


def render(outcome: Outcome, t: Translator) -> Rendered:
    """Every reply's text with its options; a notice becomes a message of its own.

    The options of all replies are numbered as one list, under the last reply that has
    any (a channel without buttons shows one list at a time). Replies without options
    leave the earlier options valid (an error, a note), unless they ask for typed text.
    """
    replies = [r for r in outcome.replies if r.text or r.buttons]
    if not replies:
        texts = [outcome.notice] if outcome.notice else []
        return Rendered(texts, None)
    buttons = [row for reply in replies for row in reply.buttons]
    typed = any(reply.typed for reply in replies)
    if not buttons:
        return Rendered([r.text for r in replies], Prompt() if typed else None)
    prompt = Prompt.of(buttons, typed)
    last = max((n for n, r in enumerate(replies) if r.buttons), default=None)
    texts = []
    for n, reply in enumerate(replies):
        text = reply.text
        if n == last:
            text = (text + "\n\n" if text else "") + options_text(prompt, t)
        texts.append(text)
    return Rendered(texts, prompt)


@dataclass(frozen=True)
class Pressed:
    """A typed message read against the chat's options."""

    event: ChatEvent  # with `callback_data` when it picked an option
    label: str | None = None  # the option it picked
    answer: Outcome | None = None  # the reply to a number that means nothing


async def pressed(runtime: Runtime, event: ChatEvent) -> Pressed:
    """A typed number or option name as the button it stands for, by the chat's stored
    options; a number that means nothing there gets its own answer."""
    if event.text is None:
        return Pressed(event)
    async with runtime.db.session() as session:
        stored = await prompts.shown(session, event.channel, event.chat_id)
        choice = (Prompt.from_json(stored) if stored else Prompt()).choose(event.text)
        if choice.option is not None:
            button = dataclasses.replace(event, text=None, callback_data=choice.option.data)
            return Pressed(button, choice.option.label)
        if not choice.unknown_number:
            return Pressed(event)
        member = await member_store.by_identity(session, event.channel, event.user_id)
        locale = (member.locale or member.org.locale) if member else None
    t = Translator(locale or runtime.settings.default_locale)
    text = t.gettext(
        "The number {number} is not one of the options in my latest message. "
        "Reply with one of the numbers listed there, or send /help."
    ).format(number=event.text.strip().rstrip(".)"))
    return Pressed(event, answer=Outcome([Reply(text)], locale=t.locale))


async def shown(
    runtime: Runtime, channel: str, chat_id: str, outcome: Outcome, t: Translator
) -> Rendered:
    """The outcome rendered (in `t`'s language), its options stored for the chat."""
    rendered = render(outcome, t)
    await remember(runtime, channel, chat_id, rendered)
    return rendered


async def remember(
    runtime: Runtime, channel: str, chat_id: str, rendered: Rendered
) -> dict[str, Any] | None:
    """Store what the rendered message's numbers mean in this chat (if it changes that);
    the options stored before, for `restore`."""
    if rendered.prompt is None:
        return None
    options = rendered.prompt.to_json() if rendered.prompt.options else None
    async with runtime.db.session() as session:
        return await prompts.show(session, channel, chat_id, options, runtime.clock())


async def restore(
    runtime: Runtime, channel: str, chat_id: str, earlier: dict[str, Any] | None
) -> None:
    """Put back the options of the chat's latest delivered message."""
    async with runtime.db.session() as session:
        await prompts.show(session, channel, chat_id, earlier, runtime.clock())
