"""The OpenAPI schema holds: schemathesis against /openapi.json of a real server process,
with organiser and with walker credentials, finds no 5xx and no answer contradicting the schema.

Both modes (data the schema allows, and data it does not) with a small number of examples
keep it within a couple of minutes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import Server, register_walker

pytestmark = pytest.mark.e2e

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)
NOT_YET: tuple[str, ...] = ()


def schemathesis(srv: Server, authorization: str, tmp_path: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert exe, "schemathesis is in the test extra: pip install -e '.[test]'"
    excluded = [arg for path in NOT_YET for arg in ("--exclude-path", path)]
    return subprocess.run(
        [
            exe,
            "run",
            f"{srv.url}/openapi.json",
            "-H",
            f"Authorization: {authorization}",
            "--max-examples",
            "15",
            "--mode",
            "all",
            "--checks",
            CHECKS,
            "--seed",
            "10",
            "--no-shrink",
            "--workers",
            "1",
            "--request-timeout",
            "20",
            *excluded,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )


@pytest.mark.parametrize("who", ["organiser", "walker"])
def test_schemathesis_finds_no_5xx_and_no_answer_against_the_schema(
    server: Server, tmp_path: Path, who: str
) -> None:
    walker = register_walker(server, "Schema walker", route_id="20km")
    token = server.token if who == "organiser" else walker["token"]
    done = schemathesis(server, f"Bearer {token}", tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    log = server.log.read_text() if server.log else ""
    assert "Traceback" not in log, log[-3000:]
