"""report.md: the sections in order, from the summary frame, the records and the figures."""

from __future__ import annotations

import pandas as pd

from nodewise import names, schema
from nodewise.names import AVERAGE, DEFAULT_CLASSIFIER, VOTE
from nodewise_cli import plots, reference
from nodewise_cli.report.records import DEFAULT_FEATURE_SET, configuration, latest_per_model_and_seed
from nodewise_cli.report.sweep import sweep_table, sweep_words
from nodewise_cli.report.tables import (
    curve_stats,
    curve_table,
    f1_table,
    fedavg_rounds,
    label_counts,
    markdown_table,
    ownership_table,
    resources_table,
    rounds_table,
    time_table,
    work_per_node,
    work_table,
)
from nodewise_cli.report.verdicts import (
    curve_words,
    gathered_words,
    ownership_words,
    rounds_words,
    verdict,
)

CLASSIFIER_WORDS = {names.LOGISTIC_REGRESSION: "logistic regression",
                    names.DECISION_TREE: "decision tree", names.RANDOM_FOREST: "random forest"}


FEATURE_SET_WORDS = {
    "default": "job title, education and the numeric columns, without "
               "Automation_Probability_2030",
    "full": "also Automation_Probability_2030, from which the label is a threshold rule",
}


def render_markdown(trains: list[dict], summary: pd.DataFrame, figures=(),
                    curve: pd.DataFrame | None = None, notes=(), cluster: str = "",
                    swept: pd.DataFrame | None = None) -> str:
    """report.md; `figures` are the PNG names written, `curve` the reference's learning curve,
    `cluster` the cluster the runs came from, in words, `swept` sweep.sweep_frame's rows."""
    per_run = summary[["run_id", "model", "seed", "eval_set", "train_rows", "test_rows", "f1",
                       "accuracy", "fit_seconds", "total_seconds"]]
    models = set(summary.model)
    lines = ["# nodewise report", "", *([f"Cluster: {cluster}.", ""] if cluster else []),
             *_introduction(trains, notes), *_ownership_section(trains, figures),
             "## F1 per model", "", markdown_table(f1_table(summary)), "", *verdict(summary), "",
             *_images(figures, plots.F1_PNG), *_sweep_section(trains, swept, figures),
             "## Training time per model", "", markdown_table(time_table(summary)), ""]
    if models & {AVERAGE, VOTE}:
        lines += ["The average and vote models' times are the combining only; their "
                  "per-node models' training is in those models' rows.", ""]
    lines += _images(figures, plots.TIME_PNG)
    lines += _rounds_section(trains, figures)
    stats = curve_stats(pd.DataFrame(curve, columns=reference.CURVE_COLUMNS))
    if not stats.empty:
        lines += ["## Learning curve", "",
                  "F1 of the scikit-learn reference on the global test set against the rows it "
                  "trained on, drawn from the train side with fixed seeds; the Spark runs are "
                  "the points.", "", markdown_table(curve_table(stats)), "", curve_words(stats), "",
                  *_images(figures, plots.CURVE_PNG)]
    resources = resources_table(summary)
    if not resources.empty:
        lines += ["## Resources per run", "", markdown_table(resources), "",
                  *_images(figures, plots.RESOURCES_PNG)]
    work = work_per_node(trains)
    if not work.empty or plots.NODES_PNG in figures:
        lines += ["## Resources per node", ""]
    if not work.empty:
        lines += ["How the unified runs' work spread over the nodes, mean over the unified runs "
                  "(what the Executors page of Spark's web UI shows per node):", "",
                  markdown_table(work_table(work)), ""]
        gathered = gathered_words(trains)
        lines += [gathered, ""] if gathered else []
    elif plots.NODES_PNG in figures:
        lines += ["No unified run records its work per node; the figure shows what each "
                  "node's own model used.", ""]
    lines += _images(figures, plots.NODES_PNG)
    descriptions = _descriptions_section(trains)
    if descriptions:
        lines += ["## What the trees learned", "", *descriptions]
    lines += ["## Every run", "", markdown_table(per_run), ""]
    checks = _data_checks_section(trains)
    if checks:
        lines += ["## Data checks of the unified runs (Spark SQL, before training)", "", *checks]
    return "\n".join(lines) + "\n"


def _sweep_section(trains: list[dict], swept: pd.DataFrame | None, figures) -> list[str]:
    """make sweep's comparison: every model's F1 at each alpha of the chosen split."""
    if swept is None or swept.empty:
        return []
    split = trains[0]["split"]
    return ["## F1 against alpha", "",
            f"Every model trained on the split SPLIT={split['kind']} SPLIT_SEED={split['seed']} "
            f"at each alpha (`make sweep`), scored on that alpha's global test set: weighted F1, "
            f"mean ± std over seeds. The sections above cover alpha {split['alpha']:g} only.", "",
            markdown_table(sweep_table(swept)), "", sweep_words(swept), "",
            *_images(figures, plots.SWEEP_PNG)]


def _rounds_section(trains: list[dict], figures) -> list[str]:
    """The federated-averaging runs' loss after each round."""
    rounds = fedavg_rounds(trains)
    if rounds.empty:
        return []
    return ["## Federated averaging, round by round", "", rounds_words(rounds, trains), "",
            markdown_table(rounds_table(rounds)), "", *_images(figures, plots.ROUNDS_PNG)]


def _ownership_section(trains: list[dict], figures) -> list[str]:
    """Who owns which rows: the split, each node's labels, the most skewed node."""
    split = (trains[0].get("split") if trains else None) or {}
    counts = label_counts(split)
    if counts.empty:
        return []
    return ["## Data ownership", "", ownership_words(split, counts), "",
            markdown_table(ownership_table(counts)), "", *_images(figures, plots.LABELS_PNG)]


def _introduction(trains: list[dict], notes) -> list[str]:
    classifier, feature_set = configuration(trains[0]) if trains else (DEFAULT_CLASSIFIER,
                                                                       DEFAULT_FEATURE_SET)
    seeds = sorted({r["seed"] for r in trains})
    return [
        f"{len(latest_per_model_and_seed(trains))} training run(s), seed(s) "
        f"{', '.join(map(str, seeds))}. Classifier: "
        f"{CLASSIFIER_WORDS.get(classifier, classifier)}; features: {feature_set} "
        f"({FEATURE_SET_WORDS.get(feature_set, 'as the records say')}).", "",
        "F1 is weighted F1. The global test set is the union of every node's test part "
        "(scores from the nodes' confusion matrices summed); a per-node model's own test "
        "part is the test part of its node's slice. Mean ± standard deviation over seeds.", "",
        *[line for note in notes for line in (note, "")],
        *_capacity(trains),
    ]


def _capacity(trains: list[dict]) -> list[str]:
    """The cluster the latest unified run had (the master's /json), as a sentence."""
    clusters = [r for r in trains if r.get("cluster")]
    if not clusters:
        return []
    latest = max(clusters, key=lambda r: r["finished_at"])
    cluster, spark = latest["cluster"], latest.get("versions", {}).get("spark", "?")
    return [f"Cluster capacity at the latest unified run: {cluster['workers']} alive worker(s), "
            f"{cluster['cores']} core(s), {cluster['memory_mb']} MB for executors; Spark {spark}.",
            ""]


def _images(figures, *names: str) -> list[str]:
    found = [f"![{name[:-4].replace('_', ' ')}]({name})" for name in names if name in figures]
    return [*found, ""] if found else []


def _descriptions_section(trains: list[dict]) -> list[str]:
    """The top splits of each tree model in words (first seed), if the records carry them."""
    lines, shown = [], set()
    for record in latest_per_model_and_seed(trains):
        if record.get("model_description") and record["model"] not in shown:
            shown.add(record["model"])
            lines += [f"{record['model']} (seed {record['seed']}):", "",
                      "```", *record["model_description"], "```", ""]
    return lines


def _data_checks_section(trains: list[dict]) -> list[str]:
    lines = []
    for record in latest_per_model_and_seed(trains):
        checks = record.get("data_checks")
        if not checks:
            continue
        per_node = pd.DataFrame(checks["rows_per_node_and_label"]).T.fillna(0).astype(int)
        per_node = per_node.reindex(columns=[label for label in schema.LABELS if label in per_node.columns])
        per_node.insert(0, "node", per_node.index)
        lines += [f"### {record['run_id']}", "", markdown_table(per_node), "",
                  f"Nulls: {sum(checks['nulls'].values())}; duplicate rows: "
                  f"{checks['duplicate_rows']}; values out of range: "
                  f"{sum(checks['out_of_range'].values())}.", ""]
    return lines
