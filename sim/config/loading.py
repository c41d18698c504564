"""Loading a scenario: raw data validated into a :class:`~sim.config.scenario.Scenario`,
with one readable message naming every bad field, and the JSON Schema of scenario files.

The criteria file a scenario names is part of its input, so it is read and checked here
too, at the same moment as the scenario (:func:`~sim.config.criteria.criteria_for`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.config.criteria import criteria_for
from sim.config.raw import apply_overrides, check_finite, read_yaml
from sim.config.scenario import Scenario
from sim.errors import InputError


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("function-after",)) or "(top level)"


def _error_message(err: ValidationError, source: str) -> InputError:
    """Turn pydantic's errors into one readable paragraph naming every bad field."""
    parts = []
    first_loc = None
    for e in err.errors():
        loc = _fmt_loc(tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function"))))
        first_loc = first_loc or loc
        kind = e["type"]
        msg = e["msg"]
        if kind == "extra_forbidden":
            parent = loc.rsplit(".", 1)[0] if "." in loc else None
            allowed = _allowed_keys(parent)
            msg = f"unknown key; allowed keys here: {', '.join(allowed)}"
        elif kind == "literal_error":
            msg = msg.replace("Input should be", "must be one of")
        elif kind == "value_error":
            msg = msg.removeprefix("Value error, ")
        got = e.get("input")
        got_text = "" if kind == "extra_forbidden" or isinstance(got, dict) else f" (got {got!r})"
        parts.append(f"{loc}: {msg}{got_text}")
    return InputError("; ".join(parts), source=source)


def _allowed_keys(section_path: str | None) -> list[str]:
    model: type[BaseModel] = Scenario
    if section_path:
        for name in section_path.split("."):
            field = model.model_fields.get(name)
            ann = getattr(field, "annotation", None) if field else None
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                model = ann
            else:
                return []
    return sorted(model.model_fields)


def scenario_from_dict(data: dict[str, Any], source: str = "scenario", base_dir: Path | None = None) -> Scenario:
    """Validate raw data into a Scenario, or raise an InputError naming every bad field."""
    check_finite(data, "", source)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        raise _error_message(err, source) from None
    sc._base_dir = base_dir
    sc._source = source
    criteria_for(sc)  # the criteria file is part of the input: check it now
    return sc


def load_scenario(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario YAML, applying ``--set`` style overrides.

    Args:
        path: The scenario file.
        overrides: ``["policy.store_upgrade_subsidy=0.5", ...]`` or a dict of dotted paths.

    Returns:
        The validated scenario, with relative map paths resolved against the file's folder.

    Raises:
        InputError: The file or an override is malformed; the message names the field.
    """
    p = Path(path)
    data = apply_overrides(read_yaml(p), overrides)
    return scenario_from_dict(data, source=str(p), base_dir=p.resolve().parent)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, for editors' autocompletion."""
    schema = Scenario.model_json_schema()
    schema["title"] = "countysim scenario"
    return schema
