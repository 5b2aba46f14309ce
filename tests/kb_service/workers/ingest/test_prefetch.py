import threading
import time

from kb_service.workers.ingest.prefetch import PrefetchBuffer


def _produce(buffer: PrefetchBuffer[int], items: list[tuple[int, int]], log: list[int]) -> None:
    try:
        for item, weight in items:
            if not buffer.put(item, weight):
                return
            log.append(item)
    finally:
        buffer.finish()


def test_items_arrive_in_order_and_the_producer_waits_at_the_budget() -> None:
    buffer: PrefetchBuffer[int] = PrefetchBuffer(budget=10)
    queued: list[int] = []
    producer = threading.Thread(target=_produce, args=(buffer, [(1, 4), (2, 4), (3, 4)], queued))
    producer.start()
    time.sleep(0.2)
    assert queued == [1, 2]  # 4 + 4 + 4 > 10: the third waits for room
    assert buffer.get() == 1
    producer.join(5)
    assert queued == [1, 2, 3]
    assert [buffer.get(), buffer.get(), buffer.get()] == [2, 3, None]


def test_an_item_heavier_than_the_budget_passes_when_the_buffer_is_empty() -> None:
    buffer: PrefetchBuffer[int] = PrefetchBuffer(budget=10)
    producer = threading.Thread(target=_produce, args=(buffer, [(1, 50), (2, 1)], []))
    producer.start()
    assert [buffer.get(), buffer.get(), buffer.get()] == [1, 2, None]
    producer.join(5)


def test_closing_releases_a_blocked_producer_and_drops_the_rest() -> None:
    buffer: PrefetchBuffer[int] = PrefetchBuffer(budget=1)
    queued: list[int] = []
    producer = threading.Thread(target=_produce, args=(buffer, [(1, 1), (2, 1), (3, 1)], queued))
    producer.start()
    time.sleep(0.1)
    buffer.close()
    producer.join(5)
    assert not producer.is_alive() and queued == [1]
    assert buffer.get() is None
