"""Turning run records into reports/summary.csv, report.md, report.html and figures.

No Spark needed: the records hold confusion matrices. Works with whatever
records exist. One module per job: `records` loads them, chooses one
configuration and makes the summary rows; `tables` and `verdicts` turn the
summary into tables and sentences; `render` puts report.md together.
`write` runs them in that order.
"""

from __future__ import annotations

import contextlib
import os
import typing

from nodewise_cli import clusters, html, plots, reference
from nodewise_cli.files import atomic_path
from nodewise_cli.paths import REPORT_HTML, REPORT_MD, SUMMARY_CSV, SWEEP_CSV, SWEEP_PNG
from nodewise_cli.report import records, sweep, tables
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
    every_train, evaluations = records.load_records(runs_dir)
    if not every_train:
        raise NoRecords(f"no training records in {runs_dir}: run make train-node, train-nodes "
                        f"or train-unified first")
    trains, notes = records.select_configuration(every_train, classifier, feature_set)
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
    swept = _write_sweep(every_train, trains[0], evaluations, out_dir, notes)
    if not swept.empty:
        figures.append(os.path.basename(plots.sweep_plot(sweep.sweep_means(swept),
                                                         os.path.join(out_dir, SWEEP_PNG))))
    cluster = f"{clusters.name_of(inventory)} (inventory {inventory})" if inventory else ""
    markdown = render_markdown(trains, summary, figures, comparison.curve, notes, cluster, swept)
    report_md = os.path.join(out_dir, REPORT_MD)
    with atomic_path(report_md) as partial, open(partial, "w", encoding="utf-8") as out:
        out.write(markdown)
    report_html = os.path.join(out_dir, REPORT_HTML)
    with atomic_path(report_html) as partial, open(partial, "w", encoding="utf-8") as out:
        out.write(html.markdown_to_html(markdown, out_dir))
    return Written(summary_csv, len(summary), report_md, report_html)


def _write_sweep(every_train: list[dict], chosen: dict, evaluations: list[dict], out_dir: str,
                 notes: list[str]):
    """The sweep's rows (F1 per alpha, model and seed) into sweep.csv, when the records hold
    `chosen`'s split at two alphas or more; its notes go to `notes`. Without a sweep, an
    earlier report's sweep.csv and figure go: they would contradict this report."""
    runs_by_alpha, sweep_notes = sweep.sweep_runs(every_train, chosen)
    swept = sweep.sweep_frame(runs_by_alpha, evaluations)
    if swept.empty:
        for name in (SWEEP_CSV, SWEEP_PNG):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(out_dir, name))
        return swept
    notes += [*sweep_notes, "The runs of this split at other alphas are compared in "
                            "\"F1 against alpha\"."]
    with atomic_path(os.path.join(out_dir, SWEEP_CSV)) as partial:
        swept.to_csv(partial, index=False)
    return swept
