"""Turning run records into reports/summary.csv, report.md, report.html and figures.

No Spark needed: the records hold confusion matrices. Works with whatever
records exist. One module per job: `records` loads them, chooses one
configuration and makes the summary rows; `tables` and `verdicts` turn the
summary into tables and sentences; `render` puts report.md together.
`write` runs them in that order.
"""

from __future__ import annotations

import os
import typing

from nodewise_cli import clusters, html, plots, reference
from nodewise_cli.files import atomic_path
from nodewise_cli.paths import REPORT_HTML, REPORT_MD, SUMMARY_CSV
from nodewise_cli.report import records, tables
from nodewise_cli.report.render import render_markdown


class NoRecords(Exception):
    """There is nothing to report: no training records (of the configuration asked for)."""


class Written(typing.NamedTuple):
    summary_csv: str
    summary_rows: int
    report_md: str
    report_html: str


def write(runs_dir: str, out_dir: str, split_dir: str, classifier: str | None = None,
          feature_set: str | None = None, inventory: str | None = None) -> Written:
    """Every report file from the records in `runs_dir`, each written whole or not at all."""
    trains, evaluations = records.load_records(runs_dir)
    if not trains:
        raise NoRecords(f"no training records in {runs_dir}: run make train-node, train-nodes "
                        f"or train-unified first")
    trains, notes = records.select_configuration(trains, classifier, feature_set)
    if not trains:
        raise NoRecords(f"no training records in {runs_dir} with classifier {classifier or 'any'} "
                        f"and feature set {feature_set or 'any'}")
    chosen = records.configuration(trains[0])
    params = trains[0].get("params") or {}
    comparison = reference.run(trains, evaluations, split_dir, *chosen, params)
    if comparison.note:
        notes.append(f"The scikit-learn reference was skipped: {comparison.note}.")
    notes += records.unscored_notes(trains, evaluations)
    notes += records.skipped_model_notes(os.path.dirname(os.path.abspath(runs_dir)))
    summary = records.summary_frame(records.summary_rows(trains + comparison.records, evaluations))
    summary_csv = os.path.join(out_dir, SUMMARY_CSV)
    with atomic_path(summary_csv) as partial:
        summary.to_csv(partial, index=False)
    curve = tables.curve_stats(comparison.curve)
    per_node = tables.node_resources(summary, tables.work_per_node(trains))
    labels = tables.label_counts(trains[0].get("split"))
    figures = plots.all_plots(summary, out_dir, per_node, curve, tables.spark_points(summary),
                              labels, tables.fedavg_rounds(trains))
    cluster = f"{clusters.name_of(inventory)} (inventory {inventory})" if inventory else ""
    markdown = render_markdown(trains, summary, figures, comparison.curve, notes, cluster)
    report_md = os.path.join(out_dir, REPORT_MD)
    with atomic_path(report_md) as partial, open(partial, "w", encoding="utf-8") as out:
        out.write(markdown)
    report_html = os.path.join(out_dir, REPORT_HTML)
    with atomic_path(report_html) as partial, open(partial, "w", encoding="utf-8") as out:
        out.write(html.markdown_to_html(markdown, out_dir))
    return Written(summary_csv, len(summary), report_md, report_html)
