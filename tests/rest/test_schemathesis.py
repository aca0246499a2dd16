"""Property-based fuzzing of every REST operation against the live server's own OpenAPI.

Each operation gets generated bodies, valid and invalid, sent with valid credentials,
and every answer goes through all of schemathesis' checks: no 5xx, answers that match
the documented status codes, headers, content types and schemas, schema-valid bodies
accepted and schema-invalid ones refused. About half of the generated ids are swapped
for real ones, so the fuzzing reaches past "not found" into the rules behind it.

``schemathesis.toml`` beside this file counts 413 as a refusal of invalid data (see
there); the same file serves a longer manual run from schemathesis' CLI.

Schemathesis' pytest plugin (``from_fixture(...).parametrize()``) does not run
under pytest 9.2 (it writes ``Node._nodeid``, which pytest no longer has), so the
operations are driven through its Python API with Hypothesis directly.
"""

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from tests.conftest import LiveServer
from tests.factories import DOCUMENTED_PATHS, PREFIX, Api, upsert

MAX_EXAMPLES = 25
CONFIG = Path(__file__).with_name("schemathesis.toml")
_schemas: dict[str, Any] = {}


def all_checks() -> list[Any]:
    """Every check schemathesis registers (the CLI's ``--checks all``)."""
    load_all_checks()
    checks: list[Any] = CHECKS.get_all()
    return checks


def test_every_check_is_run() -> None:
    names = {check.__name__ for check in all_checks()}
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
    } <= names


@pytest.fixture
def api_schema(live_server: LiveServer) -> Any:
    """The server's own OpenAPI document, loaded once per server."""
    if live_server.url not in _schemas:
        _schemas[live_server.url] = schemathesis.openapi.from_url(
            live_server.url + "/openapi.json", config=SchemathesisConfig.from_path(str(CONFIG))
        )
    return _schemas[live_server.url]


@pytest.fixture
def targets(api: Api) -> dict[str, str]:
    """Real rows of the test's workspace for generated ids to point at."""
    source = api.source()
    api.push(source["id"], *(upsert(f"notes/{i}.md", f"# Note {i}\n") for i in range(3)))
    conflict = api.open_conflict(source["id"])
    return {
        "sourceId": source["id"],
        "connectorId": source["connectorId"],
        "conflictId": conflict["id"],
    }


def _fuzz(operation: Any, api: Api, targets: dict[str, str], base_url: str) -> None:
    checks = all_checks()
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        # Only a valid body gets real ids: swapping the very field a negative case broke
        # would make it valid again behind the check's back.
        if isinstance(case.body, dict) and case.meta.generation.mode.is_positive:
            for key, real in targets.items():
                value = case.body.get(key)
                if isinstance(value, str) and len(value) % 2 == 0:
                    case.body[key] = real
        case.call_and_validate(
            base_url=base_url,
            headers=api.headers,
            checks=checks,
        )

    run()


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_documented_operation(
    api_schema: Any, api: Api, targets: dict[str, str], live_server: LiveServer, path: str
) -> None:
    operation = api_schema["/" + PREFIX.strip("/") + "/" + path]["POST"]
    _fuzz(operation, api, targets, live_server.url)


def test_every_other_operation(
    api_schema: Any, api: Api, targets: dict[str, str], live_server: LiveServer
) -> None:
    documented = {PREFIX + p for p in DOCUMENTED_PATHS}
    others = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(PREFIX) and operation.path not in documented:
            others.append(operation)
            _fuzz(operation, api, targets, live_server.url)
    assert all(o.method.upper() == "POST" for o in others)
