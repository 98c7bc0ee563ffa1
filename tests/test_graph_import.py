"""The Functions app starts without loading msgraph, which costs a quarter second."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_DIR

PROBE = (
    "import sys\n"
    "import function_app\n"
    "loaded = sorted({m.split('.')[0] for m in sys.modules})\n"
    "print(' '.join(m for m in loaded if m.startswith(('msgraph', 'kiota'))))\n"
)


def test_function_app_import_skips_msgraph():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert result.stdout.strip() == ""


def test_graph_mailbox_import_loads_msgraph():
    probe = PROBE.replace("import function_app", "import mailboxes.graph")
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert "msgraph" in result.stdout.split()
