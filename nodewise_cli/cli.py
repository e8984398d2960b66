"""nodewise: the controller's commands behind the Makefile."""

from __future__ import annotations

import os
import sys

import click

from nodewise import names, schema
from nodewise_cli import (
    __version__,
    generate,
    report,
    split,
    validate,
    wheelhouse,
)
from nodewise_cli import inventory as ansible_inventory
from nodewise_cli.files import atomic_path
from nodewise_cli.paths import DATASET, REPORTS_DIR, RUNS_DIR, SPLIT_DIR


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group()
@click.version_option(__version__, prog_name="nodewise")
def main() -> None:
    """nodewise: per-node and unified Spark models on your own cluster."""


@main.command(name="generate")
@click.option("--rows", type=click.IntRange(min=1), default=3000, show_default=True,
              help="How many rows to generate.")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Seed of the generator: the same seed gives the same file.")
@click.option("--output", type=click.Path(dir_okay=False), default=DATASET, show_default=True,
              help="Where to write the dataset.")
def generate_command(rows: int, seed: int, output: str) -> None:
    """Generate synthetic data with the real file's schema and structure."""
    with atomic_path(output) as partial:
        generate.write_csv(partial, rows, seed)
    click.echo(f"wrote {rows} generated rows to {output}")


@main.command(name="import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--output", type=click.Path(dir_okay=False), default=DATASET, show_default=True,
              help="Where to write the validated dataset.")
def import_data(source: str, output: str) -> None:
    """Validate the real Kaggle file SOURCE and make it the dataset."""
    try:
        with atomic_path(output) as partial:
            rows = validate.copy_validated(source, partial)
    except validate.DataError as error:
        _fail(f"{source}: {error}; nothing was changed under {os.path.dirname(output) or '.'}")
    click.echo(f"imported {rows} rows from {source} to {output}")


@main.command(name="split")
@click.option("--inventory", type=click.Path(exists=True), default="inventory.ini",
              show_default=True, help="Ansible inventory whose hosts get one slice each.")
@click.option("--source", type=click.Path(exists=True, dir_okay=False), default=DATASET,
              show_default=True, help="The dataset to split.")
@click.option("--out-dir", type=click.Path(file_okay=False), default=SPLIT_DIR,
              show_default=True, help="Directory for jobs_<host>.csv (replaced whole).")
@click.option("--split", "kind", type=click.Choice(split.KINDS), default=split.IID,
              show_default=True, help="How rows go to nodes: iid (near-equal cuts), label, quantity, column.")
@click.option("--alpha", type=float, default=split.DEFAULT_ALPHA, show_default=True,
              help="Dirichlet concentration of the label and quantity splits: smaller, more skewed.")
@click.option("--column", default=None,
              help="The column whose every value lies on one node (--split column).")
@click.option("--split-seed", type=int, default=split.DEFAULT_SEED, show_default=True,
              help="Seed of the label, quantity and column splits.")
def split_data(inventory: str, source: str, out_dir: str, kind: str, alpha: float,
               column: str | None, split_seed: int) -> None:
    """Split the dataset into one slice per inventory host (near-equal by default)."""
    try:
        nodes = ansible_inventory.nodes(inventory)
    except ValueError as error:
        _fail(str(error))
    try:
        how = split.Split(kind, alpha, column, split_seed)
        counts = split.split_file(source, nodes, out_dir, how)
    except split.SplitError as error:
        _fail(f"{error}; {out_dir} was not changed")
    click.echo(f"split: {how.words()}")
    for node, rows in counts.items():
        click.echo(f"{node}: {rows} rows")


@main.command(name="nodes")
@click.option("--inventory", type=click.Path(exists=True), default="inventory.ini",
              show_default=True, help="Ansible inventory to list.")
def list_nodes(inventory: str) -> None:
    """List the inventory's nodes, the master first."""
    try:
        click.echo(" ".join(ansible_inventory.nodes(inventory)))
    except ValueError as error:
        _fail(str(error))


@main.command(name="report")
@click.option("--runs-dir", type=click.Path(file_okay=False), default=RUNS_DIR,
              show_default=True, help="Directory of the run and evaluation records (JSON).")
@click.option("--out-dir", type=click.Path(file_okay=False), default=REPORTS_DIR,
              show_default=True, help="Where summary.csv and report.md go.")
@click.option("--split-dir", type=click.Path(file_okay=False), default=SPLIT_DIR, show_default=True,
              help="The slices the runs used, for the scikit-learn reference and learning curve.")
@click.option("--classifier", type=click.Choice(names.CLASSIFIERS), default=None,
              help="Report the runs of this classifier [default: the latest run's].")
@click.option("--feature-set", type=click.Choice(list(schema.FEATURE_SETS)), default=None,
              help="Report the runs of this feature set [default: the latest run's].")
@click.option("--inventory", default=None,
              help="The inventory of the cluster the runs came from, named in the report.")
def report_command(runs_dir: str, out_dir: str, split_dir: str, classifier: str | None,
                   feature_set: str | None, inventory: str | None) -> None:
    """Write summary.csv, report.md, report.html and figures from whatever records exist."""
    try:
        written = report.write(runs_dir, out_dir, split_dir, classifier, feature_set, inventory)
    except report.NoRecords as error:
        _fail(str(error))
    click.echo(f"wrote {written.summary_csv} ({written.summary_rows} rows), {written.report_md} "
               f"and {written.report_html}")


@main.command(name="bench")
@click.option("--rows", "sizes", type=click.IntRange(min=30), multiple=True,
              default=(3000,), show_default=True,
              help="Dataset size to measure; repeat for a series (3000 30000 ...).")
@click.option("--runs", type=click.IntRange(min=1), default=5, show_default=True,
              help="Measured runs per model and size, after one warm-up run.")
@click.option("--work-dir", type=click.Path(file_okay=False),
              default=os.path.join("build", "bench"), show_default=True,
              help="The sandbox cluster's folder: data, node roots, secret.")
@click.option("--out-dir", type=click.Path(file_okay=False), default=REPORTS_DIR,
              show_default=True, help="Where bench.csv, bench.md and bench.png go.")
def bench_command(sizes: tuple[int, ...], runs: int, work_dir: str, out_dir: str) -> None:
    """Time the unified, per-node and scikit-learn fits on a private local cluster."""
    from nodewise_cli import bench, bench_report

    def write(measured: list[dict]) -> None:  # after each size: a later failure keeps it
        for path in bench_report.write(measured, out_dir):
            click.echo(f"wrote {path} ({measured[0]['rows']} rows)")

    try:
        bench.run_bench(list(sizes), runs, os.path.abspath(work_dir),
                        log=lambda line: click.echo(line, err=True), done=write)
    except RuntimeError as error:
        _fail(f"the benchmark stopped; sizes measured before are in {out_dir}: {error}")


@main.command(name="bench-targets")
@click.option("--base", required=True, help="The commit to compare HEAD with (a hash or a name).")
@click.option("--runs", type=click.IntRange(min=1), default=2, show_default=True,
              help="Timed runs of each target but make demo (once per commit).")
@click.option("--work-dir", type=click.Path(file_okay=False),
              default=os.path.join("build", "bench", "targets"), show_default=True,
              help="Where the two fresh clones go.")
@click.option("--out-dir", type=click.Path(file_okay=False), default=REPORTS_DIR,
              show_default=True, help="Where bench-targets.csv and bench-targets.md go.")
def bench_targets_command(base: str, runs: int, work_dir: str, out_dir: str) -> None:
    """Time make demo and the training targets on BASE, then on HEAD: fresh clones."""
    from nodewise_cli import bench_targets

    try:
        rows = bench_targets.run(base, runs, os.path.abspath(work_dir),
                                 log=lambda line: click.echo(line, err=True))
    except bench_targets.BenchError as error:
        _fail(str(error))
    for path in bench_targets.write(rows, out_dir):
        click.echo(f"wrote {path}")


def _target_value(parse):
    """A click callback: `parse` checks the value; its ValueError names the bad value."""
    def callback(context: click.Context, param: click.Parameter, value: str) -> str:
        try:
            return parse(value)
        except ValueError as error:
            raise click.BadParameter(str(error), context, param) from None
    return callback


def _controller(attribute: str) -> tuple:
    """This machine's value: the option's default, and how --help shows it."""
    value = getattr(wheelhouse.controller_target(), attribute)
    return value, f"this machine's: {value or 'none'}"


@main.command(name="wheelhouse")
@click.option("--lock", type=click.Path(exists=True, dir_okay=False), default="requirements.lock",
              show_default=True, help="Pinned requirements; lines marked '# node' are built.")
@click.option("--out-dir", type=click.Path(file_okay=False), default=os.path.join("build", "wheelhouse"),
              show_default=True, help="Where the wheels go.")
@click.option("--python-version", default=_controller("python_version")[0],
              show_default=_controller("python_version")[1],
              callback=_target_value(wheelhouse.parse_python_version),
              help="The nodes' Python, major.minor, e.g. 3.11.")
@click.option("--machine", default=_controller("machine")[0],
              show_default=_controller("machine")[1],
              callback=_target_value(wheelhouse.parse_machine),
              help="The nodes' machine as `uname -m` prints it: x86_64, aarch64, ...")
@click.option("--libc", default=_controller("libc")[0], show_default=_controller("libc")[1],
              callback=_target_value(lambda value: wheelhouse.parse_libc(value) and value),
              help="The nodes' libc as '-'.join(platform.libc_ver()) prints it: glibc-2.36, "
                   "or musl-1.2.")
def wheelhouse_command(lock: str, out_dir: str, python_version: str, machine: str,
                       libc: str) -> None:
    """Build the nodes' wheelhouse for their Python and platform (skipped when complete)."""
    target = wheelhouse.Target(python_version, machine, libc)
    try:
        stamp, built = wheelhouse.build(lock, out_dir, target)
    except ValueError as error:
        _fail(f"could not build the wheelhouse: {error}")
    state = "built" if built else "already complete"
    click.echo(f"wheelhouse {state}: {out_dir} ({os.path.basename(stamp)})")
