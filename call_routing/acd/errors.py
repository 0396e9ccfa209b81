"""The ACD's errors: one hierarchy, each saying whether retrying can help."""

from __future__ import annotations


class AcdError(Exception):
    """Base of every error the ACD raises."""

    retryable = False


class InvalidTransition(AcdError):
    """An agent was asked to move between states that do not connect."""


class UnknownId(AcdError, KeyError):
    """No agent, seat group or call with that id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class QueueFull(AcdError):
    """The seat group's queue holds its maximum length; later there may be room."""

    retryable = True


class TimeWentBack(AcdError, ValueError):
    """``now`` was earlier than a time the ACD already saw."""
