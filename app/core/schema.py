"""The JSON Schema of prototype files, generated from the pydantic models."""

from __future__ import annotations

import json

from app.core.prototype import Prototype

SCHEMA_ID = "https://protostudio.dev/prototype.schema.json"


def schema_json() -> str:
    """The schema as stable, pretty JSON text (the content of `docs/prototype.schema.json`)."""
    schema = Prototype.model_json_schema(by_alias=True, mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
