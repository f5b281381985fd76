"""A broker with four workers under many clients at once. The kernel spreads the
connections over the workers (SO_REUSEPORT), so messages cross workers, sessions
move between them on takeover, and shared groups span them. QoS 1 throughout:
nothing may be lost, nothing duplicated without a reconnection, and each
publisher's order is kept (5.0 4.6, 3.1.1 4.6: ordered per topic and QoS).

Clients are paho (half MQTT 3.1.1, half 5.0), each with its own network thread.
"""
import threading
import time

import pytest

from mqtt_helpers import V5, V311, PahoClient, unique, wait_until

LONG = 300.0  # liveness bound for one test's thousands of messages on a Debug + ASan broker


class Deadline:
    """One time budget shared by every wait of a test, so a failing test ends
    after LONG seconds rather than LONG per wait."""

    def __init__(self, seconds=LONG):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.1, self.end - time.monotonic())


@pytest.fixture
def four_workers(start_broker):
    # Towards each client at most mqtt.max_inflight (32) messages are in flight and
    # mqtt.max_mqueue_len (1000) wait behind them; beyond that the oldest are dropped,
    # by design. A Python subscriber behind eight publishers can fall further back
    # than that, and these tests are about routing between workers, so the queue is
    # made long enough for every message of a test.
    return start_broker(args=["--threads", "4", "--set", "mqtt.max_mqueue_len=100000"])


@pytest.fixture
def clients():
    made = []
    yield made
    for client in made:
        client.close()


def sequence_numbers(messages, publisher):
    """The sequence numbers of `publisher`'s messages, in arrival order."""
    prefix = b"%d:" % publisher
    return [int(m.payload[len(prefix):]) for m in messages if m.payload.startswith(prefix)]


def publish_all(publishers, topic_of, count, deadline):
    """Each publisher, on its own thread, publishes `count` QoS 1 messages
    "<publisher>:<seq>" and waits for every PUBACK."""
    errors = []

    def run(index, client):
        try:
            mids = [client.publish(topic_of(index), b"%d:%d" % (index, seq), qos=1, wait=False)
                    for seq in range(count)]
            assert client.wait_published(mids, timeout=deadline.left()), \
                "publisher %d: PUBACKs missing" % index
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(deadline.left())
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads), "publishers did not finish"


def wait_all(expected_counts, deadline):
    """Waits until each client has its expected number of messages; the failure
    names who is short."""
    def short():
        return [(c.client_id, len(c.messages), n) for c, n in expected_counts
                if len(c.messages) < n]
    wait_until(lambda: not short(), deadline.left())
    assert not short(), "clients short of messages (id, got, expected): %s" % short()


def test_publishers_and_subscribers_over_all_workers(four_workers, clients):
    prefix = unique("mw")
    publishers_n, per_publisher = 8, 1000

    def topic_of(publisher):
        return "%s/p%d" % (prefix, publisher)

    # Four subscribers on everything, four on two publishers' topics each.
    wide, narrow = [], []
    for i in range(8):
        client = PahoClient(four_workers.port, version=V5 if i % 2 else V311)
        clients.append(client)
        if i < 4:
            assert client.subscribe(prefix + "/#", 1) == [1]
            wide.append(client)
        else:
            mine = [2 * (i - 4), 2 * (i - 4) + 1]
            assert client.subscribe([(topic_of(p), 1) for p in mine]) == [1, 1]
            narrow.append((client, mine))
    publishers = []
    for i in range(publishers_n):
        client = PahoClient(four_workers.port, version=V311 if i % 2 else V5)
        clients.append(client)
        publishers.append(client)

    deadline = Deadline()
    publish_all(publishers, topic_of, per_publisher, deadline)

    expected = list(range(per_publisher))
    wait_all([(c, publishers_n * per_publisher) for c in wide] +
             [(c, len(mine) * per_publisher) for c, mine in narrow], deadline)
    for client in wide:
        got = client.quiet_messages()
        assert len(got) == publishers_n * per_publisher, client.client_id
        for publisher in range(publishers_n):
            # None lost, none duplicated, in the publisher's order.
            assert sequence_numbers(got, publisher) == expected, (client.client_id, publisher)
        assert {m.qos for m in got} == {1}
    for client, mine in narrow:
        got = client.quiet_messages()
        assert len(got) == len(mine) * per_publisher, client.client_id
        for publisher in mine:
            assert sequence_numbers(got, publisher) == expected, (client.client_id, publisher)


def test_shared_group_spanning_workers(four_workers, clients):
    topic = unique("mw-shared")
    members = []
    for i in range(6):
        member = PahoClient(four_workers.port, version=V5 if i % 2 else V311)
        clients.append(member)
        assert member.subscribe("$share/workers/" + topic, 1) == [1]
        members.append(member)
    publishers = []
    for i in range(4):
        publisher = PahoClient(four_workers.port, version=V311 if i % 2 else V5)
        clients.append(publisher)
        publishers.append(publisher)
    per_publisher = 500

    deadline = Deadline()
    publish_all(publishers, lambda index: topic, per_publisher, deadline)

    total = len(publishers) * per_publisher
    assert wait_until(lambda: sum(len(m.messages) for m in members) >= total, deadline.left()), \
        "the group got %d of %d" % (sum(len(m.messages) for m in members), total)
    got = [member.quiet_messages() for member in members]
    # 5.0 4.8.2: each message to exactly one member of the group.
    for publisher in range(len(publishers)):
        seen = sorted(n for messages in got for n in sequence_numbers(messages, publisher))
        assert seen == list(range(per_publisher)), publisher
        # Each member sees a publisher's messages in that publisher's order.
        for messages in got:
            numbers = sequence_numbers(messages, publisher)
            assert numbers == sorted(numbers)
    assert all(messages for messages in got), [len(m) for m in got]


def takeovers_under_load(broker, clients, client_id, topic, count, takeovers):
    """A persistent QoS 1 subscriber `client_id` is taken over `takeovers` times by
    new connections of the same client id (each landing on any worker) while one
    publisher sends `count` messages. Returns the subscriber's connections in order."""

    def incarnation(i):
        version = V5 if i % 2 else V311
        kwargs = {"session_expiry": 300} if version == V5 else {}
        client = PahoClient(broker.port, version=version, client_id=client_id, clean=False,
                            **kwargs)
        clients.append(client)
        return client

    deadline = Deadline()
    incarnations = [incarnation(0)]
    assert incarnations[0].subscribe(topic, 1) == [1]
    publisher = PahoClient(broker.port, version=V5)
    clients.append(publisher)

    # Each chunk is published without waiting and a new connection is made at once,
    # so the takeover overlaps deliveries still on their way to the old connection.
    chunk = count // takeovers
    mids = []
    for i in range(takeovers):
        mids += [publisher.publish(topic, b"0:%d" % seq, qos=1, wait=False)
                 for seq in range(i * chunk, (i + 1) * chunk)]
        incarnations.append(incarnation(i + 1))
    mids += [publisher.publish(topic, b"0:%d" % seq, qos=1, wait=False)
             for seq in range(takeovers * chunk, count)]
    assert publisher.wait_published(mids, timeout=deadline.left())

    # Each new connection found the session (3.1.1 [MQTT-3.2.2-2], 5.0 [MQTT-3.2.2-3])
    # and closed the one before it (3.1.1 [MQTT-3.1.4-2], 5.0 [MQTT-3.1.4-3]).
    assert all(c.connacks[-1]["session_present"] for c in incarnations[1:])
    assert all(c.wait_disconnected() for c in incarnations[:-1])

    def received():
        return {n for c in incarnations for n in sequence_numbers(list(c.messages), 0)}

    assert wait_until(lambda: len(received()) >= count, deadline.left()), \
        "lost: %s" % sorted(set(range(count)) - received())[:50]
    incarnations[-1].quiet_messages()
    return incarnations


def test_session_moves_between_workers_without_loss(four_workers, clients):
    """The session, its subscription and its queued and unacknowledged messages move
    with each takeover; nothing is lost (QoS 1 may duplicate across a takeover:
    3.1.1 and 5.0 [MQTT-4.4.0-1] resend what was unacknowledged, with DUP)."""
    incarnations = takeovers_under_load(four_workers, clients, unique("mw-mover"),
                                        unique("mw-takeover"), count=3000, takeovers=12)
    for client in incarnations:
        for message in client.messages:
            assert message.qos == 1


def first_inversion(messages):
    """The first pair of messages received in an order other than published, as
    text, or None. A DUP message that repeats an earlier number is not an inversion."""
    highest, highest_message = -1, None
    seen = set()
    for message in messages:
        number = sequence_numbers([message], 0)[0]
        if number < highest and number not in seen:
            return ("seq %d (packet id %d, dup %d) arrived after seq %d (packet id %d, dup %d)"
                    % (number, message.mid, message.dup, highest, highest_message.mid,
                       highest_message.dup))
        seen.add(number)
        if number > highest:
            highest, highest_message = number, message
    return None


def test_session_move_keeps_each_publishers_order(four_workers, clients):
    """3.1.1 [MQTT-4.6.0-5] / 5.0 [MQTT-4.6.0-5]: PUBLISH packets go to a subscriber
    in the order they were received from a given client (same topic and QoS), and
    resent ones in their original order (3.1.1 and 5.0 [MQTT-4.6.0-1])."""
    inversions = []
    for attempt in range(3):  # each attempt: 40 takeovers; one inversion is enough
        incarnations = takeovers_under_load(four_workers, clients, unique("mw-order"),
                                            unique("mw-order-topic"), count=4000,
                                            takeovers=40)
        for index, client in enumerate(incarnations):
            inversion = first_inversion(list(client.messages))
            if inversion:
                inversions.append("connection %d (MQTT %s): %s" % (
                    index, "5" if client.version == V5 else "3.1.1", inversion))
        if inversions:
            break
    assert not inversions, inversions
