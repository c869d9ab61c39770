"""Fuzz every endpoint of the OpenAPI schema with schemathesis, without and with a signed-in
session: no request gets a 5xx, and a refused one (4xx) says why in JSON (``code``) and changes
nothing stored (the election file, the accounts, the data folder).

Schemathesis generates the requests (each operation's hypothesis strategy, positive and negative
data); its pytest plugin is not used (``from_fixture`` needs a pytest internal that pytest 9
removed), so the operations are listed here and checked against the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.fuzz.budget import fuzz_settings
from tests.fuzz.service import Service, json_code, running_service

pytestmark = pytest.mark.fuzz

OPERATIONS = (
    ("GET", "/api/health"),
    ("GET", "/api/remote/info"),
    ("POST", "/api/remote/redeem"),
    ("POST", "/api/remote/cast"),
    ("GET", "/api/remote/receipt"),
    ("GET", "/api/remote/pin"),
    ("GET", "/api/remote/noop"),
    ("GET", "/api/board"),
    ("GET", "/api/board/checkpoints"),
    ("GET", "/api/board/proof"),
    ("GET", "/api/board/remote"),
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(Path(tmp_path_factory.mktemp("api"))) as svc:
        yield svc


@pytest.fixture(scope="module")
def api_schema(service: Service) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", service.app)


def test_every_schema_operation_is_fuzzed(api_schema: Any) -> None:
    listed = {(r.ok().method.upper(), r.ok().path) for r in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@fuzz_settings(25)
@given(data=st.data())
def test_api_endpoint_never_fails_and_refusals_change_nothing(
    service: Service, api_schema: Any, method: str, path: str, data: st.DataObject
) -> None:
    operation = api_schema[path][method]
    mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
    case = data.draw(operation.as_strategy(generation_mode=mode))
    for user in (None, "chair"):
        before = service.snapshot()
        response = case.call(headers=service.headers(user))
        case.validate_response(response, checks=[not_a_server_error])
        if response.status_code >= 400:
            assert json_code(response), (response.status_code, response.text[:500])
            assert service.snapshot() == before, f"refused with {response.status_code} but stored"
