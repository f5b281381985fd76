"""Aggregation of one figure over rounds: median with min and max."""
import statistics
from dataclasses import dataclass
from typing import Iterable, Optional


@dataclass(frozen=True)
class Spread:
    median: float
    min: float
    max: float
    n: int

    def as_dict(self):
        return {"median": self.median, "min": self.min, "max": self.max, "n": self.n}


def spread(values: Iterable[Optional[float]]) -> Optional[Spread]:
    """Median, min and max of the values that exist; None when there are none.

    A round that could not produce a figure (the broker fell over, no message arrived)
    is left out rather than counted as zero, and n says how many rounds remain.
    """
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    return Spread(statistics.median(present), min(present), max(present), len(present))


def ratio(cicada: Optional[Spread], mosquitto: Optional[Spread]) -> Optional[float]:
    """Cicada's median over mosquitto's; None when either is missing or mosquitto's is 0."""
    if cicada is None or mosquitto is None or mosquitto.median == 0:
        return None
    return cicada.median / mosquitto.median
