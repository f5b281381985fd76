"""The broker starts, routes a message between two third-party clients, and stops
cleanly on SIGTERM."""
import subprocess


def test_mosquitto_pub_sub_round_trip(broker):
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-t", "smoke/#", "-v",
                            "-C", "1", "-W", "10", "-q", "1"],
                           stdout=subprocess.PIPE, text=True)
    # Publish until the subscriber is surely subscribed (its SUBSCRIBE races ours).
    for _ in range(50):
        subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-t", "smoke/a", "-m", "hi",
                        "-q", "1"], check=True)
        try:
            out, _ = sub.communicate(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            continue
    assert out.strip().splitlines()[0] == "smoke/a hi"
