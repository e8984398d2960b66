"""The ML pipeline every trainer uses, built from the shared feature schema."""

from __future__ import annotations

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import DecisionTreeClassifier, LogisticRegression, RandomForestClassifier
from pyspark.ml.feature import OneHotEncoder, StringIndexerModel, VectorAssembler
from pyspark.sql import DataFrame

from nodewise import schema
from nodewise.names import (
    CLASSIFIERS,
    DECISION_TREE,
    FOREST_SEED,
    FOREST_TREES,
    LOGISTIC_REGRESSION,
    RANDOM_FOREST,
    TREE_MAX_BINS,
    TREE_MAX_DEPTH,
)

LABEL_INDEX = "label"
FEATURES = "features"

# Regularisation of the logistic regression: L2 with regParam 0.01.
# Evidence: on the real file (docs/dataset.md), Spark's default regParam 0 averages
# weighted F1 0.986 over five 80/20 splits, and any regParam from 0.001 to
# 0.05 (L1 or L2) averages 0.993; 0.01 sits mid-range. On generated data,
# scripts/regularisation_sweep.py (5 seeds of the shared split, 3000 rows)
# measured regParam 0: mean 0.9895, min 0.9821; 0.001 to 0.05, L1 or L2: mean
# 0.9898, min 0.9839, equal to scikit-learn's C=1 L2 on the same rows. Without
# a penalty the weights of rare job/label pairs grow without bound.
REG_PARAM = 0.01
ELASTIC_NET_PARAM = 0.0
MAX_ITER = 100
# Convergence tolerance (scikit-learn's default; Spark's is 1e-6). Measured on
# 3000 generated rows, seeds 1 to 3: LBFGS needs 13 to 14 iterations instead of
# 17 to 19, every prediction of the test sets is the same, so F1 is identical;
# each iteration is a Spark job, which on a cluster costs 0.1 to 0.3 s.
TOL = 1e-4



def _index_column(column: str) -> str:
    return f"{column}_index"


def _vector_column(column: str) -> str:
    return f"{column}_vector"


def feature_stages(feature_set: str = schema.DEFAULT_FEATURE_SET) -> list:
    """Indexers with fixed categories, one-hot encoders and the assembler."""
    indexers = [
        StringIndexerModel.from_labels(
            list(categories), inputCol=column, outputCol=_index_column(column),
            handleInvalid="keep")  # an unseen category goes to its own bucket
        for column, categories in schema.FEATURE_CATEGORICAL.items()
    ]
    categorical = list(schema.FEATURE_CATEGORICAL)
    encoder = OneHotEncoder(
        inputCols=[_index_column(c) for c in categorical],
        outputCols=[_vector_column(c) for c in categorical],
        handleInvalid="keep")
    assembler = VectorAssembler(
        inputCols=list(schema.feature_numeric(feature_set)) + [_vector_column(c) for c in categorical],
        outputCol=FEATURES)
    return [*indexers, encoder, assembler]


def label_indexer() -> StringIndexerModel:
    """Label indices fixed by `schema.LABELS`; an unknown label is an error."""
    return StringIndexerModel.from_labels(
        list(schema.LABELS), inputCol=schema.LABEL, outputCol=LABEL_INDEX,
        handleInvalid="error")


def build_classifier(classifier: str = LOGISTIC_REGRESSION, reg_param: float = REG_PARAM,
                     elastic_net_param: float = ELASTIC_NET_PARAM):
    """The estimator named `classifier`; an unknown name is an error."""
    common = {"featuresCol": FEATURES, "labelCol": LABEL_INDEX}
    if classifier == LOGISTIC_REGRESSION:
        return LogisticRegression(family="multinomial", regParam=reg_param,
                                  elasticNetParam=elastic_net_param, maxIter=MAX_ITER, tol=TOL,
                                  **common)
    if classifier == DECISION_TREE:
        return DecisionTreeClassifier(maxDepth=TREE_MAX_DEPTH, maxBins=TREE_MAX_BINS, **common)
    if classifier == RANDOM_FOREST:
        return RandomForestClassifier(numTrees=FOREST_TREES, maxDepth=TREE_MAX_DEPTH,
                                      maxBins=TREE_MAX_BINS, seed=FOREST_SEED, **common)
    raise ValueError(f"unknown classifier {classifier!r}; choose one of {', '.join(CLASSIFIERS)}")


def classifier_params(classifier: str) -> dict:
    """The settings of `classifier` as the run records show them."""
    if classifier == LOGISTIC_REGRESSION:
        return {"reg_param": REG_PARAM, "elastic_net_param": ELASTIC_NET_PARAM,
                "max_iter": MAX_ITER, "tol": TOL}
    trees = {"max_depth": TREE_MAX_DEPTH, "max_bins": TREE_MAX_BINS}
    if classifier == RANDOM_FOREST:
        trees.update(num_trees=FOREST_TREES, seed=FOREST_SEED)
    return trees


def build_pipeline(classifier: str = LOGISTIC_REGRESSION,
                   feature_set: str = schema.DEFAULT_FEATURE_SET, *,
                   reg_param: float = REG_PARAM,
                   elastic_net_param: float = ELASTIC_NET_PARAM) -> Pipeline:
    """StringIndexer, OneHotEncoder, VectorAssembler, classifier: the pipeline of the original
    Docker and Jupyter project."""
    return Pipeline(stages=[*feature_stages(feature_set), label_indexer(),
                            build_classifier(classifier, reg_param, elastic_net_param)])


def fit_pipeline(rows: DataFrame, classifier: str = LOGISTIC_REGRESSION,
                 feature_set: str = schema.DEFAULT_FEATURE_SET, *,
                 small: bool = False) -> PipelineModel:
    """The fitted pipeline of `build_pipeline`, with the same stages.

    On small data the classifier reads a lazy local checkpoint of the features:
    Spark plans the feature transforms once, not in each of the classifier's
    passes over its input, and each LBFGS iteration's task no longer carries
    their lineage. Large data skips it: the checkpoint would be a second copy
    of the rows beside the classifier's own cache.
    """
    if not small:
        return build_pipeline(classifier, feature_set).fit(rows)
    prepare = Pipeline(stages=[*feature_stages(feature_set), label_indexer()]).fit(rows)
    prepared = prepare.transform(rows).select(FEATURES, LABEL_INDEX)
    fitted = build_classifier(classifier).fit(prepared.localCheckpoint(eager=False))
    return PipelineModel(stages=[*prepare.stages, fitted])
