"""Render evaluation results as a console table, Markdown and self-contained HTML with plots.

Plots use matplotlib's object API (``matplotlib.figure.Figure``, Agg canvas), imported
inside the functions: no pyplot global state and no import cost for the rest of the app.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any, Mapping, Sequence

from ..config import LOCALES

# (results key, column heading) of the overall table.
COLUMNS = (
    ("n", "n"), ("recall@1", "R@1"), ("recall@5", "R@5"), ("recall@10", "R@10"), ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"), ("fact_hit_rate", "facts"), ("quote_fidelity", "fidelity"),
    ("abstention_precision", "abst. P"), ("abstention_recall", "abst. R"),
    ("false_abstention_rate", "false abst."), ("danger_recall", "danger R"),
    ("danger_false_alarm_rate", "false alarms"), ("answer_language", "language"),
    ("first_quote_own_language", "own lang. first"),
    ("latency_p50", "p50 s"), ("latency_p95", "p95 s"),
)
OUTCOMES = ("answered", "abstained", "notice")
KINDS = ("in_scope", "out_of_scope", "danger", "safe")
SPLITS = ("dev", "test")


def fmt(value: Any) -> str:
    """A number for a table: 3 decimals, ints as they are, '–' for undefined."""
    if value is None:
        return "–"
    if isinstance(value, bool) or isinstance(value, int):
        return str(int(value))
    return f"{value:.3f}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def default_config(results: Mapping[str, Any]) -> str:
    """The configuration the targets are judged on: ``hybrid`` when it ran, else the first."""
    configs = results["configs"]
    return "hybrid" if "hybrid" in configs else next(iter(configs))


def _overall_rows(results: Mapping[str, Any]) -> list[list[str]]:
    return [[name] + [fmt(c["overall"].get(key)) for key, _ in COLUMNS] for name, c in results["configs"].items()]


def _languages(results: Mapping[str, Any]) -> list[str]:
    """Languages with a Recall@5 in some configuration (not those with only refusals)."""
    present = {lang for c in results["configs"].values() for lang, agg in c["by_language"].items()
               if agg.get("recall@5") is not None}
    return [lang for lang in LOCALES if lang in present]


def _recall_rows(results: Mapping[str, Any], key: str = "recall@5") -> list[list[str]]:
    configs = results["configs"]
    return [[lang] + [fmt(c["by_language"].get(lang, {}).get(key)) for c in configs.values()]
            for lang in _languages(results)]


def _target_rows(targets: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    return [[t["name"], f"{t['op']} {t['target']:g}", fmt(t["measured"]), t["status"]] for t in targets]


def _outcomes(table: Mapping[str, Mapping[str, int]]) -> list[str]:
    """The three outcomes, plus "error" when a question could not be asked."""
    return [*OUTCOMES, *sorted({o for row in table.values() for o in row} - set(OUTCOMES))]


def _confusion_rows(table: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    return [[kind] + [str(table.get(kind, {}).get(o, 0)) for o in _outcomes(table)] for kind in KINDS]


def _misses(config: Mapping[str, Any], limit: int = 60) -> list[list[str]]:
    rows = []
    for r in config["questions"]:
        s = r["scores"]
        why = []
        if r.get("error"):
            why.append(f"error: {r['error']}")
        if s.get("recall@5") == 0.0:
            why.append("passage not in top 5" if r.get("rank") is None else f"passage at rank {r['rank']}")
        if s.get("outcome_ok") == 0.0 and not r.get("error"):
            why.append(f"{r['outcome']} (expected for {r['kind']})")
        if s.get("fact_hit_rate") is not None and s["fact_hit_rate"] < 1.0:
            missing = [f for f, ok in zip(r["expected_facts"], r.get("facts_found", [])) if not ok]
            why.append("facts missing: " + ", ".join(missing))
        if s.get("quote_fidelity") is not None and s["quote_fidelity"] < 1.0:
            why.append("UNFAITHFUL QUOTE")
        if why:
            rows.append([r["id"], r["language"], r["question"].replace("|", "/")[:90], "; ".join(why)])
    return rows[:limit]


def _min(values: Mapping[str, Any]) -> Any:
    defined = [(v, k) for k, v in values.items() if v is not None]
    return min(defined) if defined else (None, "")


def safeguarding_rows(config: Mapping[str, Any]) -> list[list[str]]:
    """One row per detector and split: recall, worst language, worst harm, false alarms."""
    rows = []
    detectors = config.get("detectors") or {}
    for detector in ("rules", "semantic", "combined"):
        for split in SPLITS:
            b = detectors.get(detector, {}).get(split)
            if not b or not (b["n_danger"] or b["n_safe"]):
                continue
            low_lang, lang = _min(b["by_language"])
            low_harm, harm = _min(b["by_harm"])
            rows.append([detector, split, fmt(b["n_danger"]), fmt(b["danger_recall"]),
                         _worst(low_lang, lang), _worst(low_harm, harm),
                         fmt(b["n_safe"]), fmt(b["safe_false_alarm_rate"]), fmt(b["in_scope_false_alarm_rate"])])
    return rows


def _worst(value: Any, name: str) -> str:
    """"0.923 lt"; only the value when nothing falls short (every group at 1)."""
    return f"{fmt(value)} {name}" if value is not None and value < 1 else fmt(value)


SAFEGUARDING_HEADER = ["detector", "split", "danger n", "recall", "worst language", "worst harm",
                       "safe n", "false alarms (safe)", "false alarms (in scope)"]


def _split_rows(config: Mapping[str, Any], key: str) -> list[list[str]]:
    """Combined detector's recall per language (key='by_language') or harm, dev beside test."""
    combined = (config.get("detectors") or {}).get("combined", {})
    names = list(dict.fromkeys(n for split in SPLITS for n in combined.get(split, {}).get(key, {})))
    return [[n] + [fmt(combined.get(split, {}).get(key, {}).get(n)) for split in SPLITS] for n in names]


def _split_overall_rows(config: Mapping[str, Any]) -> list[list[str]]:
    """Every metric of one configuration on the dev questions beside the test questions."""
    return [[split] + [fmt(agg.get(key)) for key, _ in COLUMNS] for split, agg in (config.get("by_split") or {}).items()]


def summary_table(results: Mapping[str, Any]) -> str:
    """The console summary: one row per configuration, then the targets of the default one."""
    header = ["config"] + [h for _, h in COLUMNS]
    name = default_config(results)
    targets = results["configs"][name]["targets"]
    text = _text_table(header, _overall_rows(results))
    splits = _split_overall_rows(results["configs"][name])
    if len(splits) > 1:
        text += f"\n\nDev beside test ({name}):\n" + _text_table(["split"] + [h for _, h in COLUMNS], splits)
    rows = safeguarding_rows(results["configs"][name])
    if rows:
        text += f"\n\nSafeguarding detectors ({name}):\n" + _text_table(SAFEGUARDING_HEADER, rows)
    return text + f"\n\nTargets ({name}):\n" + _text_table(["target", "goal", "measured", "status"], _target_rows(targets))


def markdown_report(results: Mapping[str, Any]) -> str:
    """report.md: overall table, Recall@5 per language, targets, confusion, missed questions."""
    configs = results["configs"]
    name = default_config(results)
    parts = [
        "# Evaluation report", "",
        f"Run {results['created']} on {results['n_questions']} questions from "
        + ", ".join(f"`{s}`" for s in results["sets"]) + ".", "",
        "## Overall, per configuration", "",
        _md_table(["config"] + [h for _, h in COLUMNS], _overall_rows(results)), "",
        "## Recall@5 per language", "",
        _md_table(["language", *configs], _recall_rows(results)), "",
        "## Follow-up questions (Recall@5)", "",
        _md_table(["config", "n", "R@5", "facts"], [[n, fmt(c["follow_up"]["n"]), fmt(c["follow_up"]["recall@5"]),
                                                     fmt(c["follow_up"]["fact_hit_rate"])] for n, c in configs.items()]), "",
        f"## Dev beside test (configuration `{name}`)", "",
        "Dev questions are what constants were chosen on; test questions were written first and never tuned on.", "",
        _md_table(["split"] + [h for _, h in COLUMNS], _split_overall_rows(configs[name])), "",
        f"## Safeguarding, dev beside test (configuration `{name}`)", "",
        "Each detector alone and combined (the notice shows when either fires). The dev splits are what "
        "rules, exemplars and thresholds were chosen on; the test splits were written first and never tuned on.", "",
        _md_table(SAFEGUARDING_HEADER, safeguarding_rows(configs[name])), "",
        f"Detection time once the message is embedded: {fmt((configs[name].get('detectors') or {}).get('ms_per_message'))} ms per message.", "",
        "Combined detector, danger recall per language:", "",
        _md_table(["language", *SPLITS], _split_rows(configs[name], "by_language")), "",
        "Combined detector, danger recall per harm:", "",
        _md_table(["harm", *SPLITS], _split_rows(configs[name], "by_harm")), "",
        f"## Targets (configuration `{name}`)", "",
        _md_table(["target", "goal", "measured", "status"], _target_rows(configs[name]["targets"])), "",
        "## Outcomes by kind (confusion table)", "",
    ]
    for cname, c in configs.items():
        header = ["kind \\ outcome", *_outcomes(c["confusion"])]
        parts += [f"**{cname}**", "", _md_table(header, _confusion_rows(c["confusion"])), ""]
    misses = _misses(configs[name])
    parts += [f"## Questions that missed (configuration `{name}`)", ""]
    parts += [_md_table(["id", "lang", "question", "why"], misses) if misses else "None.", ""]
    return "\n".join(parts)


# ---------------------------------------------------------------- HTML

def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _grouped_bars(groups: Sequence[str], series: Mapping[str, Sequence[float | None]], title: str, ylabel: str) -> str:
    """A grouped bar chart (one group per label, one bar per series) as a data: URI."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(6.0, 0.6 * len(groups) * max(1, len(series)) ** 0.5 + 2), 3.6))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [v if v is not None else 0.0 for v in values], width, label=label)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def _latency_plot(results: Mapping[str, Any]) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.add_subplot()
    for name, c in results["configs"].items():
        values = [r["latency_s"] for r in c["questions"] if r.get("latency_s") is not None]
        if values:
            ax.hist(values, bins=30, histtype="step", linewidth=1.5, label=name)
    ax.set_xlabel("seconds per question (ask)")
    ax.set_ylabel("questions")
    ax.set_title("Latency distribution")
    ax.legend(fontsize="small")
    return _png(fig)


def _confusion_plot(results: Mapping[str, Any]) -> str:
    from matplotlib.figure import Figure

    configs = results["configs"]
    fig = Figure(figsize=(3.4 * len(configs), 2.8))
    for i, (name, c) in enumerate(configs.items(), start=1):
        ax = fig.add_subplot(1, len(configs), i)
        counts = [[c["confusion"][k].get(o, 0) for o in OUTCOMES] for k in KINDS]
        ax.imshow(counts, cmap="Blues", vmin=0)
        top = max(max(row) for row in counts) or 1
        for y, row in enumerate(counts):
            for x, v in enumerate(row):
                ax.text(x, y, str(v), ha="center", va="center", color="white" if v > top / 2 else "black")
        ax.set_xticks(range(len(OUTCOMES)), OUTCOMES, fontsize="small")
        ax.set_yticks(range(len(KINDS)), KINDS if i == 1 else [""] * len(KINDS), fontsize="small")
        ax.set_title(name)
    fig.tight_layout()
    return _png(fig)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], status_col: int | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = f' class="{cell.lower().replace("/", "")}"' if i == status_col else ""
            cells.append(f"<td{cls}>{html.escape(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.met{background:#dfd}.missed{background:#fdd}
img{max-width:100%;display:block;margin:.5rem 0 1.5rem}"""


def _page(title: str, body: Sequence[str]) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def html_report(results: Mapping[str, Any]) -> str:
    """report.html: the Markdown report's tables plus embedded PNG plots, in one file."""
    configs = results["configs"]
    name = default_config(results)
    langs = _languages(results)
    recall_series = {c: [configs[c]["by_language"].get(lang, {}).get("recall@5") for lang in langs] for c in configs}
    body = [
        "<h1>Evaluation report</h1>",
        f"<p>Run {html.escape(results['created'])} on {results['n_questions']} questions from "
        + html.escape(", ".join(results["sets"])) + ".</p>",
        "<h2>Overall, per configuration</h2>",
        _html_table(["config"] + [h for _, h in COLUMNS], _overall_rows(results)),
        "<h2>Recall@5 per language</h2>",
        f'<img alt="Recall@5 per language and configuration" src="{_grouped_bars(langs, recall_series, "Recall@5 per language", "Recall@5")}">'
        if langs else "<p>No question with an expected passage.</p>",
        _html_table(["language", *configs], _recall_rows(results)),
        f"<h2>Dev beside test (configuration {html.escape(name)})</h2>",
        _html_table(["split"] + [h for _, h in COLUMNS], _split_overall_rows(configs[name])),
        f"<h2>Safeguarding, dev beside test (configuration {html.escape(name)})</h2>",
        _html_table(SAFEGUARDING_HEADER, safeguarding_rows(configs[name])),
        _html_table(["language", *SPLITS], _split_rows(configs[name], "by_language")),
        _html_table(["harm", *SPLITS], _split_rows(configs[name], "by_harm")),
        f"<h2>Targets (configuration {html.escape(name)})</h2>",
        _html_table(["target", "goal", "measured", "status"], _target_rows(configs[name]["targets"]), status_col=3),
        "<h2>Latency</h2>",
        f'<img alt="Latency distribution per configuration" src="{_latency_plot(results)}">',
        "<h2>Outcomes by kind (abstention and danger)</h2>",
        f'<img alt="Confusion table of question kind against outcome" src="{_confusion_plot(results)}">',
    ]
    for cname, c in configs.items():
        body += [f"<h3>{html.escape(cname)}</h3>", _html_table(["kind \\ outcome", *_outcomes(c["confusion"])], _confusion_rows(c["confusion"]))]
    misses = _misses(configs[name])
    body += [f"<h2>Questions that missed (configuration {html.escape(name)})</h2>",
             _html_table(["id", "lang", "question", "why"], misses) if misses else "<p>None.</p>"]
    return _page("Evaluation report", body)


# ---------------------------------------------------------------- comparison and external

def comparison_text(old: Mapping[str, Any], new: Mapping[str, Any], changes: Sequence[Any], metric: str,
                    max_drop: float, regressed: bool) -> str:
    """What ``--compare`` prints: the metric before/after per configuration, then each changed question."""
    lines = [f"\nComparison on {metric} (fails when it worsens by more than {max_drop:g}):"]
    for name, c in new["configs"].items():
        if name in old["configs"]:
            b, a = old["configs"][name]["overall"].get(metric), c["overall"].get(metric)
            delta = f"{a - b:+.3f}" if a is not None and b is not None else "n/a"
            lines.append(f"  {name}: {fmt(b)} -> {fmt(a)} ({delta})")
    for direction in ("better", "worse"):
        moved = [ch for ch in changes if ch.direction == direction]
        lines.append(f"{direction.capitalize()}: {len(moved)} question(s)")
        lines += [f"  [{ch.config}] {ch.question_id}: {fmt(ch.old)} -> {fmt(ch.new)}" for ch in moved]
    lines.append("REGRESSION: exit status 1." if regressed else "No regression beyond the threshold.")
    return "\n".join(lines)


_EXT_COLUMNS = ("n", "recall@1", "recall@5", "recall@10", "mrr@10")


def _external_rows(results: Mapping[str, Any]) -> list[list[str]]:
    return [[r["benchmark"], r["language"], r["model"]] + [fmt(r.get(k)) for k in _EXT_COLUMNS] for r in results["rows"]]


def external_summary(results: Mapping[str, Any]) -> str:
    """Console table of the external benchmarks and the XQuAD-R target."""
    table = _text_table(["benchmark", "lang", "model", *_EXT_COLUMNS], _external_rows(results))
    return table + "\n\nTargets:\n" + _text_table(["target", "goal", "measured", "status"], _target_rows(results["targets"]))


def external_markdown(results: Mapping[str, Any]) -> str:
    """report.md of the external benchmarks."""
    limit = f" (first {results['limit']} items only)" if results.get("limit") else ""
    return "\n".join([
        "# External benchmarks", "",
        f"Run {results['created']} on `{results['eval_dir']}`{limit}. BM25: bm25s with the English "
        "stemmer on both sides (a baseline of shared words, names and numbers).", "",
        _md_table(["benchmark", "language", "model", *_EXT_COLUMNS], _external_rows(results)), "",
        "## Targets", "",
        _md_table(["target", "goal", "measured", "status"], _target_rows(results["targets"])), "",
    ])


def external_html(results: Mapping[str, Any]) -> str:
    """report.html of the external benchmarks, with one bar chart per benchmark."""
    body = ["<h1>External benchmarks</h1>", f"<p>Run {html.escape(results['created'])} on "
            f"{html.escape(results['eval_dir'])}.</p>"]
    for bench, key in (("XQuAD-R", "recall@5"), ("SIB-200", "recall@1")):
        rows = [r for r in results["rows"] if r["benchmark"] == bench]
        if not rows:
            continue
        langs = list(dict.fromkeys(r["language"] for r in rows))
        models = list(dict.fromkeys(r["model"] for r in rows))
        value = {(r["language"], r["model"]): r.get(key) for r in rows}
        series = {mdl: [value.get((lang, mdl)) for lang in langs] for mdl in models}
        img = _grouped_bars(langs, series, f"{bench}: {key} against English", key)
        body += [f"<h2>{bench}</h2>", f'<img alt="{bench} {key} per language and model" src="{img}">']
    body += [_html_table(["benchmark", "language", "model", *_EXT_COLUMNS], _external_rows(results)),
             "<h2>Targets</h2>",
             _html_table(["target", "goal", "measured", "status"], _target_rows(results["targets"]), status_col=3)]
    return _page("External benchmarks", body)
