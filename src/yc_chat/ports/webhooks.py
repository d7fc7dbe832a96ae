"""The chat provider's webhook bodies, read into domain events."""

from __future__ import annotations

from typing import Protocol

from yc_chat.domain.events import ChatEvent


class WebhookDecoder(Protocol):
    """How the chat provider's webhook bodies read (Stream's JSON, for both Stream adapters).

    Both are pure and raise ValueError when `raw` is not one of the provider's
    events at all; a known event lacking what the domain reacts to is an OtherEvent.
    """

    def identify(self, raw: bytes) -> tuple[str, str | None]:
        """The provider's name for the event (e.g. `message.new`) and the event's identity.

        The identity names the event whoever delivered it (None when the body carries
        nothing to tell it by): a captured body replayed under new delivery ids keeps it,
        so the inbox records the event once.
        """

    def decode(self, raw: bytes) -> ChatEvent:
        """The domain event the body describes."""
