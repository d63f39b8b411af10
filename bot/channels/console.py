"""Console channel: chat with chibo in a terminal, as any persona of the demo cell.

Buttons become numbered options, exactly as on Zalo (`bot.channels.numbered`):
type the number or the option's words. Lines that start with ":" talk to the
console itself (":who", ":as 2", ":quit").
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import handlers
from bot.channels import numbered
from bot.core.chat import ChatEvent, Outcome
from bot.core.i18n import Translator
from bot.core.numbers import is_digits, whole_number
from bot.services.runtime import Runtime

CHANNEL = "console"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Persona:
    name: str
    external_id: str
    note: str = ""


@dataclass
class ConsoleChat:
    """One terminal session; the options each persona saw are kept like Zalo's."""

    runtime: Runtime
    personas: list[Persona]
    write: Callable[[str], None] = print
    current: int = 0
    files: Path = Path("chibo-demo-files")  # charts and workbooks are saved here

    @property
    def persona(self) -> Persona:
        return self.personas[self.current]

    @property
    def _(self) -> Callable[[str], str]:
        return Translator(self.runtime.settings.default_locale).gettext

    def intro(self) -> None:
        _ = self._
        self.write(_("chibo — console. Type a message or a command such as /help."))
        self.write(_("Numbers press buttons; :who lists personas, :as N switches, :quit leaves."))
        self.who()

    def who(self) -> None:
        for number, persona in enumerate(self.personas, 1):
            mark = "*" if number - 1 == self.current else " "
            note = f" ({persona.note})" if persona.note else ""
            self.write(f" {mark}{number}. {persona.name}{note}")

    async def line(self, text: str) -> bool:
        """Handle one input line; False when the person wants to leave."""
        text = text.strip()
        if not text:
            return True
        if text.startswith(":"):
            return self._console_command(text[1:].split())
        persona = self.persona
        event = ChatEvent(
            CHANNEL, persona.external_id, persona.external_id, persona.name, text=text, edits=False
        )
        try:
            read = await numbered.pressed(self.runtime, event)
            if read.label is not None:
                self.write(f"  [{read.label}]")
            outcome = read.answer or await handlers.handle(self.runtime, read.event)
        except Exception:  # keep the demo going; the log has the cause
            log.exception("turn failed")
            outcome = handlers.error_outcome(self.runtime, event)
        await self._show(outcome)
        return True

    def _console_command(self, words: list[str]) -> bool:
        if not words or words[0] in {"quit", "q", "exit"}:
            return False
        if words[0] == "who":
            self.who()
        elif words[0] == "as" and len(words) == 2 and is_digits(words[1]):
            number = whole_number(words[1], 1, len(self.personas))
            if number is not None:
                self.current = number - 1
                self.write(self._("— now chatting as {name}").format(name=self.persona.name))
            else:
                self.write(self._("— choose 1 to {n}").format(n=len(self.personas)))
        else:
            self.write(self._("— console commands: :who, :as N, :quit"))
        return True

    async def _show(self, outcome: Outcome) -> None:
        t = Translator(outcome.locale or self.runtime.settings.default_locale)
        persona = self.persona.external_id
        rendered = await numbered.shown(self.runtime, CHANNEL, persona, outcome, t)
        for text in rendered.texts:
            self.write("chibo › " + text.replace("\n", "\n        "))
        for reply in outcome.replies:
            if reply.attachment is not None and not reply.attachment.content:
                where = reply.attachment.link or "Telegram"  # a file only Telegram holds
                self.write(
                    f"        [{reply.attachment.kind}: {reply.attachment.filename}, {where}]"
                )
            elif reply.attachment is not None:
                saved = self.files / reply.attachment.filename
                saved.parent.mkdir(parents=True, exist_ok=True)
                saved.write_bytes(reply.attachment.content)
                self.write(f"        [{reply.attachment.kind}: {saved}]")


async def run_console(
    chat: ConsoleChat, read: Callable[[str], Awaitable[str | None]] | None = None
) -> None:
    """Read lines until :quit or end of input."""
    reader = read or _stdin_reader
    chat.intro()
    while True:
        text = await reader(f"{chat.persona.name} › ")
        if text is None or not await chat.line(text):
            break


async def _stdin_reader(prompt: str) -> str | None:
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = await asyncio.to_thread(sys.stdin.readline)
    return line if line else None
