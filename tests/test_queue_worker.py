"""The dev host runs queue messages as the Functions host does."""

from __future__ import annotations

import json

import pytest

from devhost.workers import QueueOptions, load_queue_options, process_queue_once


@pytest.fixture
def queues(runtime):
    storage = runtime.storage
    return storage.queue("notifications"), storage.queue("notifications-poison")


def _contents(queue) -> list[str]:
    return [m.content for m in queue.peek_messages(max_messages=32)]


class Recorder:
    """A queue function that records dequeue counts; its first calls raise."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.dequeue_counts: list[int] = []

    def __call__(self, message) -> None:
        self.dequeue_counts.append(message.dequeue_count)
        if len(self.dequeue_counts) <= self.failures:
            raise RuntimeError("injected failure")


FAST = QueueOptions(max_dequeue_count=3, visibility_timeout_seconds=0)


def test_host_json_options_are_read():
    options = load_queue_options()

    assert options == QueueOptions(max_dequeue_count=5, visibility_timeout_seconds=30)


def test_success_deletes_message(queues):
    queue, poison = queues
    queue.send_message("one")
    function = Recorder()

    assert process_queue_once(queue, poison, function, options=FAST) == 1

    assert function.dequeue_counts == [1]
    assert _contents(queue) == []
    assert _contents(poison) == []


def test_failure_retried_until_poison(queues):
    queue, poison = queues
    queue.send_message(json.dumps({"n": 1}))
    function = Recorder(failures=99)

    for _ in range(5):
        process_queue_once(queue, poison, function, options=FAST)

    assert function.dequeue_counts == [1, 2, 3]
    assert _contents(queue) == []
    assert _contents(poison) == ['{"n": 1}']


def test_failure_then_success_is_not_poisoned(queues):
    queue, poison = queues
    queue.send_message("two")
    function = Recorder(failures=2)

    for _ in range(4):
        process_queue_once(queue, poison, function, options=FAST)

    assert function.dequeue_counts == [1, 2, 3]
    assert _contents(queue) == []
    assert _contents(poison) == []


def test_failed_message_waits_visibility_timeout(queues):
    queue, poison = queues
    queue.send_message("three")
    slow = QueueOptions(max_dequeue_count=3, visibility_timeout_seconds=30)
    function = Recorder(failures=1)

    process_queue_once(queue, poison, function, options=slow)
    process_queue_once(queue, poison, function, options=slow)

    assert function.dequeue_counts == [1]
    assert queue.get_queue_properties().approximate_message_count == 1


def test_crashed_runs_go_to_poison_unrun(queues):
    queue, poison = queues
    queue.send_message("four")
    # Receive it past the limit without running it, as crashed hosts would.
    for _ in range(FAST.max_dequeue_count):
        (message,) = list(queue.receive_messages(visibility_timeout=1))
        queue.update_message(message, visibility_timeout=0)
    function = Recorder()

    process_queue_once(queue, poison, function, options=FAST)

    assert function.dequeue_counts == []
    assert _contents(poison) == ["four"]
