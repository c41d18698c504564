"""The field helper and the base of every scenario section.

Every field of the schema is made with :func:`P`, so that its unit, default, valid range
and one-line meaning reach the JSON Schema that ``countysim schema`` prints, and every
section derives from :class:`Section`, so that a misspelt key is an error rather than a
silently ignored line.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def P(default: Any, unit: str, meaning: str, **limits: Any) -> Any:  # noqa: N802
    """A schema field with its unit and meaning recorded in the JSON Schema.

    Args:
        default: The default value.
        unit: The unit of measure ("yuan", "share", "km", "count", ...).
        meaning: One line saying what the value means and where it comes from.
        **limits: pydantic bounds (ge, le, gt, lt) giving the valid range.
    """
    return Field(default, description=meaning, json_schema_extra={"unit": unit}, **limits)


class Section(BaseModel):
    """Base for every scenario section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)
