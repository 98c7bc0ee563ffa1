"""Property-based check of the running API against its own OpenAPI document.

schemathesis generates requests for every operation in the document and sends them to
the dev host, started in this process on a free loopback port. No response may be a
5xx, and every response must match the status codes, media types and schemas the
document declares. The run is bounded by MAX_EXAMPLES per operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.review_helpers import store_report
from verdicts import openapi

MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def devhost_url(runtime, monkeypatch):
    from devhost.app import DevHost
    from runtime import reset_runtime

    monkeypatch.setenv("REPORTBACK_LOCAL_ROLE", "settings_admin")
    reset_runtime()
    host = DevHost(port=0, seed=False)
    # A few stored reports, so that listings, stats and campaigns are not empty.
    for index in range(3):
        store_report(host.runtime, campaign_key="wave" if index else "solo")
    host.start()
    yield f"http://127.0.0.1:{host.port}"
    host.stop()


def _operations():
    schema = schemathesis.openapi.from_dict(openapi.document())
    return [result.ok() for result in schema.get_all_operations()]


def test_api_conforms_to_its_openapi_document(devhost_url):
    operations = _operations()
    assert len(operations) == sum(len(e) for e in openapi.PATHS.values())
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(
                base_url=devhost_url,
                headers={"X-Requested-With": "XMLHttpRequest"},
                checks=CHECKS,
                timeout=10,
            )

        check()
