"""The summary: one row per scenario and figure, with the bar where issue 6 sets one."""
from dataclasses import dataclass
from typing import Optional

from .bar import Bar
from .stats import Spread, ratio, spread


@dataclass(frozen=True)
class Row:
    scenario: str
    metric: str
    label: str
    cicada: Optional[Spread]
    mosquitto: Optional[Spread]
    bar: Optional[Bar]

    @property
    def ratio(self) -> Optional[float]:
        return ratio(self.cicada, self.mosquitto)

    @property
    def met(self) -> Optional[bool]:
        return self.bar.met(self.cicada, self.mosquitto) if self.bar else None

    def as_dict(self):
        return {
            "scenario": self.scenario, "metric": self.metric, "label": self.label,
            "cicada": self.cicada.as_dict() if self.cicada else None,
            "mosquitto": self.mosquitto.as_dict() if self.mosquitto else None,
            "ratio": self.ratio,
            "bar": self.bar.describe() if self.bar else None,
            "met": self.met,
        }


def build_rows(scenario_list, runs, common=()) -> list:
    """Rows for each scenario's figures (and the common ones) from the raw runs:
    a run is {"scenario", "broker", "figures": {...}} and may be missing or failed."""
    rows = []
    for scenario in scenario_list:
        for metric in (*scenario.metrics, *common):
            per_broker = {}
            for broker in ("cicada", "mosquitto"):
                per_broker[broker] = spread(
                    r["figures"].get(metric.key) for r in runs
                    if r["scenario"] == scenario.name and r["broker"] == broker and
                    r.get("figures"))
            rows.append(Row(scenario.name, metric.key, metric.label, per_broker["cicada"],
                            per_broker["mosquitto"], metric.bar))
    return rows


def number(value: Optional[float]) -> str:
    """Short and readable: 1.23M, 45.6k, 789, 12.3, 0.456."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.3g}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    if magnitude >= 100 or value == 0:
        return f"{value:.0f}"
    return f"{value:.3g}"


def cell(s: Optional[Spread]) -> str:
    if s is None:
        return "-"
    return f"{number(s.median)} [{number(s.min)}-{number(s.max)}]"


def verdict(row: Row) -> str:
    if row.bar is None:
        return ""
    met = row.met
    state = "n/a" if met is None else ("MET" if met else "NOT MET")
    return f"{row.bar.describe()} {state}"


def render(rows, markdown=False) -> str:
    header = ["scenario", "figure", "cicada median [min-max]", "mosquitto median [min-max]",
              "cicada/mosquitto", "bar"]
    body = [[r.scenario, r.label, cell(r.cicada), cell(r.mosquitto),
             "-" if r.ratio is None else f"{r.ratio:.3g}x", verdict(r)] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    previous = None
    for row in body:
        shown = list(row)
        if row[0] == previous:
            shown[0] = ""
        previous = row[0]
        lines.append(fmt.format(*shown).rstrip())
    return "\n".join(lines)
