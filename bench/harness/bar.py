"""The issue-6 performance bar, and how a pair of figures is judged against it.

Each bar is one of three kinds:
  ratio_at_least  Cicada's median / mosquitto's median >= value   (throughput, connect rate)
  ratio_at_most   Cicada's median / mosquitto's median <= value   (latency: "no higher")
  cicada_at_most  Cicada's median <= value, whatever mosquitto does (bytes per connection)
"""
from dataclasses import dataclass
from typing import Optional

from .stats import Spread, ratio


@dataclass(frozen=True)
class Bar:
    kind: str
    value: float
    unit: str = ""

    def describe(self) -> str:
        if self.kind == "ratio_at_least":
            return f">= {self.value:g}x"
        if self.kind == "ratio_at_most":
            return f"<= {self.value:g}x"
        return f"<= {self.value:g} {self.unit}".rstrip()

    def met(self, cicada: Optional[Spread], mosquitto: Optional[Spread]) -> Optional[bool]:
        """True or False, or None when the figures needed are missing."""
        if self.kind == "cicada_at_most":
            return None if cicada is None else cicada.median <= self.value
        r = ratio(cicada, mosquitto)
        if r is None:
            return None
        return r >= self.value if self.kind == "ratio_at_least" else r <= self.value

    def advantage(self, cicada: Optional[Spread], mosquitto: Optional[Spread]):
        """(achieved, needed) as "how many times better than mosquitto", so that every
        bar reads the same way on the chart: higher is better, achieved >= needed passes.
        For lower-is-better figures that is mosquitto / Cicada."""
        if cicada is None or mosquitto is None or cicada.median <= 0 or mosquitto.median <= 0:
            return None
        if self.kind == "ratio_at_least":
            return cicada.median / mosquitto.median, self.value
        if self.kind == "ratio_at_most":
            return mosquitto.median / cicada.median, 1.0 / self.value
        return mosquitto.median / cicada.median, mosquitto.median / self.value


RATIO = {
    "fanin_q0": Bar("ratio_at_least", 25),
    "fanin_q1": Bar("ratio_at_least", 40),
    "fanout": Bar("ratio_at_least", 2.5),
    "latency_p99": Bar("ratio_at_most", 1),
    "connect_rate": Bar("ratio_at_least", 2),
    "rss_per_conn": Bar("cicada_at_most", 1024, "B"),
    "large_payload": Bar("ratio_at_least", 1),
}
