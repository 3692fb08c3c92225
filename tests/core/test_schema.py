"""The published JSON Schema matches the models, and the example files satisfy it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from app.core.document import load_prototype, to_data
from app.core.schema import schema_json

from .conftest import ROOT

SCHEMA_FILE = ROOT / "docs" / "prototype.schema.json"


def test_published_schema_matches_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_json(), (
        "docs/prototype.schema.json is stale: run `protostudio schema > docs/prototype.schema.json`"
    )


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(schema_json())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["protostudio"]["type"] == "integer"
    assert schema["additionalProperties"] is False


def test_example_files_satisfy_the_schema(example_path: Path) -> None:
    import yaml

    data = yaml.safe_load(example_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(schema_json())).validate(data)
    assert data == to_data(load_prototype(example_path))


def test_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(schema_json()))
    assert not validator.is_valid({"name": "x", "profiles": [{"id": "p", "sytem_prompt": "typo"}]})
    assert not validator.is_valid({"name": "x", "models": [{"id": "m", "provider": "p", "model": "m",
                                                           "api_key": "sk-nope"}]})


@pytest.mark.parametrize("forbidden", ["api_key", "apikey", "secret", "token", "password", "authorization"])
def test_no_field_can_hold_a_key(forbidden: str) -> None:
    text = schema_json()
    assert f'"{forbidden}"' not in text


def test_schema_command_prints_the_schema() -> None:
    out = subprocess.run([sys.executable, "-m", "app.cli", "schema"], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120)
    assert out.stdout == schema_json()
