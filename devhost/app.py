"""Wire the Functions app's triggers to a local HTTP server, queue and timer."""

from __future__ import annotations

import functools
import logging
import os
import threading

import azure.functions as func

from devhost.routes import Route
from devhost.seed import seed_mailbox
from devhost.server import FunctionsHttpServer
from devhost.workers import (
    fire_timer,
    load_queue_options,
    process_queue_once,
    run_every,
)

logger = logging.getLogger(__name__)

QUEUE_POLL_SECONDS = 0.5


@functools.cache
def _collect(app: func.FunctionApp):
    """Return HTTP routes, callables by name, queue functions by queue and the timer.

    Cached because ``FunctionApp.get_functions`` raises when called twice on one app.
    """
    routes: list[Route] = []
    functions = {}
    queue_functions = {}
    timer_function = None
    for function in app.get_functions():
        name = function.get_function_name()
        trigger = function.get_trigger()
        functions[name] = function.get_user_function()
        if trigger.type == "httpTrigger":
            methods = frozenset(
                str(m.value if hasattr(m, "value") else m).upper()
                for m in (trigger.methods or [])
            )
            routes.append(
                Route(
                    trigger.route or name, methods or frozenset({"GET", "POST"}), name
                )
            )
        elif trigger.type == "queueTrigger":
            queue_functions[trigger.queue_name] = functions[name]
        elif trigger.type == "timerTrigger":
            timer_function = functions[name]
    return routes, functions, queue_functions, timer_function


def http_routes(app: func.FunctionApp) -> list[Route]:
    """Return the HTTP routes that ``app`` registers with the Functions host."""
    return list(_collect(app)[0])


class DevHost:
    """The app's triggers, run in this process."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 7071, seed: bool = True
    ) -> None:
        # Stand in for App Service authentication: see devhost.server.
        os.environ["WEBSITE_AUTH_ENABLED"] = "True"
        from function_app import app
        from runtime import get_runtime

        self.runtime = get_runtime()
        self.routes, self.functions, self.queue_functions, self.timer_function = (
            _collect(app)
        )
        self.server = FunctionsHttpServer(
            (host, port),
            routes=self.routes,
            functions=self.functions,
            local_role=self.runtime.config.local_role,
        )
        self.port = self.server.server_address[1]
        self.seed = seed
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        config = self.runtime.config
        if self.seed and not config.uses_graph:
            seed_mailbox(config.mailbox_dir)
        storage = self.runtime.storage
        self._threads.append(
            threading.Thread(target=self.server.serve_forever, name="http", daemon=True)
        )
        self._threads[-1].start()
        options = load_queue_options()
        for queue_name, function in self.queue_functions.items():
            # The host moves a queue's failed messages to "<queue>-poison".
            queue = storage.queue(queue_name)
            poison = storage.queue(f"{queue_name}-poison")
            self._threads.append(
                run_every(
                    QUEUE_POLL_SECONDS,
                    functools.partial(
                        process_queue_once, queue, poison, function, options=options
                    ),
                    self._stop,
                    f"queue {queue_name}",
                )
            )
        if self.timer_function is not None:
            self._threads.append(
                run_every(
                    config.poll_seconds,
                    lambda: fire_timer(self.timer_function),
                    self._stop,
                    "timer",
                )
            )
        logger.info(
            "dev host started on port %s with role %s", self.port, config.local_role
        )

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        logger.info("dev host stopped")
