"""The one error a configuration problem raises (no pydantic: media workers use it)."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` holds one sentence each."""

    retryable = False

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
