"""Start the dev host: ``python -m devhost``.

Serves the app's HTTP routes on http://127.0.0.1:7071/api, runs its queue function
against the storage queue and fires its timer every REPORTBACK_POLL_SECONDS.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from config import ConfigError, load_config
from devhost.app import DevHost
from devhost.azurite import azurite_running

logger = logging.getLogger("devhost")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7071, help="TCP port to listen on")
    parser.add_argument(
        "--no-seed",
        action="store_true",
        help="do not seed an empty folder mailbox with sample reports",
    )
    parser.add_argument(
        "--azurite-dir",
        default=".local/azurite",
        help="folder for Azurite's data when the dev host starts it",
    )
    parser.add_argument("--verbose", action="store_true", help="log at DEBUG level")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("azure", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        load_config()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with azurite_running(Path(args.azurite_dir)) as started:
        if not started:
            logger.info("using the Azurite already running on 127.0.0.1")
        host = DevHost(host=args.host, port=args.port, seed=not args.no_seed)
        host.start()
        print(f"Reportback dev host: http://{args.host}:{host.port}/api", flush=True)
        print(f"Review portal: http://{args.host}:{host.port}/", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        host.stop()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
