"""Errors that mean "the user's input is wrong", as opposed to bugs in countysim.

The command line turns an :class:`InputError` into a one-paragraph message and exit
status 2 with no traceback; anything else is a bug and keeps its traceback. Keeping the
distinction in one exception type lets every loader (scenario YAML, map files, later
experiment specs and criteria) report problems the same way.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A problem with a file or value the user supplied.

    Args:
        message: What is wrong and what is allowed, in plain words.
        source: The file (or "command line") the problem is in.
        location: The field path (``policy.store_upgrade_subsidy``) or row
            (``row 12``) within the source, if known.
    """

    def __init__(self, message: str, source: str | Path | None = None, location: str | None = None):
        self.message = message
        self.source = str(source) if source is not None else None
        self.location = location
        super().__init__(self.render())

    def render(self) -> str:
        """The message as shown to the user: where, then what."""
        where = []
        if self.source:
            where.append(self.source)
        if self.location:
            where.append(self.location)
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class MapError(InputError):
    """A county map file (settlements or roads) that cannot be used."""
