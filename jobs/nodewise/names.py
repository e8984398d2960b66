"""The names every part of nodewise shares: the models, the classifiers and
the trees' settings. No pyspark here, so the controller's report and its
scikit-learn reference import them as the jobs do."""

from __future__ import annotations

# The models built from every node's data, in report order: trained on the
# cluster; trained by rounds of federated averaging (no row moves); the
# per-node models' coefficients averaged once, weighted by training rows (one
# step, so not called federated); their vote. A per-node model is named after
# its node.
UNIFIED = "unified"
FEDAVG = "fedavg"
AVERAGE = "average"
VOTE = "vote"  # has no archive: its info names the member runs (built_from)
COMBINED = (UNIFIED, FEDAVG, AVERAGE, VOTE)

# The one-shot average was named "federated" until issue 15 gave that word to
# multi-round training (fedavg). Records, infos and archives made before then
# keep the old name in their files; readers map it through CURRENT_NAMES.
LEGACY_AVERAGE = "federated"
CURRENT_NAMES = {LEGACY_AVERAGE: AVERAGE}


def current_name(model: str) -> str:
    """A model's name today, for one read from a record of any age."""
    return CURRENT_NAMES.get(model, model)

# The classifiers every trainer can use (MODEL= in the Makefile).
LOGISTIC_REGRESSION = "logistic_regression"
DECISION_TREE = "decision_tree"
RANDOM_FOREST = "random_forest"
CLASSIFIERS = (LOGISTIC_REGRESSION, DECISION_TREE, RANDOM_FOREST)
DEFAULT_CLASSIFIER = LOGISTIC_REGRESSION

# The trees' settings, for Spark's trainers and scikit-learn's alike.
TREE_MAX_DEPTH = 5
FOREST_TREES = 20
# Every distinct 2-decimal value of a [0, 1] column (101 of them) is a split
# candidate, so a tree can place a threshold exactly (Spark's default, 32
# bins, would put it between quantiles).
TREE_MAX_BINS = 128
FOREST_SEED = 1
