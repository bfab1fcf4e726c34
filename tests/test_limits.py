"""The per-client rate limit and the client address behind proxies (a controllable clock stands
in for time; the limit itself is tested through the real app in test_security.py)."""

from __future__ import annotations

from assistant.web.limits import RateLimit, client_address


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_at_most_n_messages_in_any_minute():
    clock = Clock()
    limit = RateLimit(3, clock=clock)
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b"), "another client has its own count"
    clock.now += 30
    assert not limit.allow("a"), "still within the minute of the first three"
    clock.now += 30.1
    assert limit.allow("a"), "the first three are more than a minute old"


def test_refused_messages_are_not_counted():
    clock = Clock()
    limit = RateLimit(1, clock=clock)
    assert limit.allow("a")
    for _ in range(10):
        clock.now += 5
        assert not limit.allow("a")
    clock.now += 10.1  # 60.1 s after the one accepted message
    assert limit.allow("a")


def test_zero_means_no_limit():
    limit = RateLimit(0)
    assert all(limit.allow("a") for _ in range(1000))


def test_memory_stays_bounded_under_many_addresses():
    clock = Clock()
    limit = RateLimit(5, clock=clock, max_clients=100)
    for i in range(1000):
        limit.allow(f"10.0.{i // 256}.{i % 256}")
    assert len(limit._seen) <= 100


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    assert client_address("10.0.0.1", "1.2.3.4", 0) == "10.0.0.1", "no proxy configured: the header is anyone's"
    assert client_address("10.0.0.1", "1.2.3.4", 1) == "1.2.3.4"
    # A client that writes its own header cannot choose its address: the proxy appends the real one.
    assert client_address("10.0.0.1", "9.9.9.9, 1.2.3.4", 1) == "1.2.3.4"
    assert client_address("10.0.0.2", "9.9.9.9, 1.2.3.4, 10.0.0.1", 2) == "1.2.3.4"
    assert client_address("10.0.0.1", "1.2.3.4", 3) == "1.2.3.4", "fewer hops than proxies: the furthest one"
    assert client_address("10.0.0.1", "", 1) == "10.0.0.1"
    assert client_address(None, None, 0) == "unknown"
