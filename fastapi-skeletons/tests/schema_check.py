"""A small JSON-schema subset validator for the templates' form parameters.

The scaffolder validates with a full JSON-schema implementation; the templates only use
type, required, enum, minimum/maximum, minLength/maxLength and pattern, which is all this
checks (and the tests fail on any other keyword, so nothing is silently ignored).
"""

from __future__ import annotations

import re
from typing import Any

KNOWN = {
    "title", "description", "type", "default", "pattern", "minLength", "maxLength", "minimum",
    "maximum", "enum",
}


def _check(name: str, schema: dict[str, Any], value: Any) -> list[str]:
    unknown = {k for k in schema if not k.startswith("ui:")} - KNOWN
    if unknown:
        raise ValueError(f"{name}: unsupported schema keywords {sorted(unknown)}")
    kind = schema.get("type")
    if kind == "string" and not isinstance(value, str):
        return [f"{name}: not a string"]
    if kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        return [f"{name}: not an integer"]
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{name}: not a boolean"]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{name}: not one of {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{name}: shorter than {schema['minLength']}")
        if len(value) > schema.get("maxLength", 10**9):
            errors.append(f"{name}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{name}: does not match {schema['pattern']}")
    if isinstance(value, int) and not isinstance(value, bool):
        if value < schema.get("minimum", -(10**18)) or value > schema.get("maximum", 10**18):
            errors.append(f"{name}: out of range")
    return errors


def validate(template: dict[str, Any], values: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    known: set[str] = set()
    for page in template["spec"]["parameters"]:
        properties = page.get("properties", {})
        known |= set(properties)
        for required in page.get("required", []):
            if required not in values:
                errors.append(f"{required}: required")
        for name, schema in properties.items():
            if name in values:
                errors += _check(name, schema, values[name])
    errors += [f"{name}: not a parameter of this template" for name in values if name not in known]
    return errors


def with_form_defaults(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The values the Create page submits: each field's default unless the user set it."""
    defaults = {
        name: schema["default"]
        for page in template["spec"]["parameters"]
        for name, schema in page.get("properties", {}).items()
        if "default" in schema
    }
    return {**defaults, **values}
