"""The dataset schema and the feature schema: the one source of truth.

Everything that reads, writes, splits or models the "AI Impact on Jobs 2030"
data takes its column names, value sets and label rule from here, so the
generator, the validator and every trainer agree. Standard library only: this
module runs on the controller and on the nodes.
"""

from __future__ import annotations

JOB_TITLE = "Job_Title"
EDUCATION_LEVEL = "Education_Level"
AUTOMATION_PROBABILITY = "Automation_Probability_2030"
LABEL = "Risk_Category"
SKILLS = tuple(f"Skill_{i}" for i in range(1, 11))

# Exact column order of the Kaggle file.
COLUMNS = (
    JOB_TITLE,
    "Average_Salary",
    "Years_Experience",
    EDUCATION_LEVEL,
    "AI_Exposure_Index",
    "Tech_Growth_Factor",
    AUTOMATION_PROBABILITY,
    LABEL,
    *SKILLS,
)

CATEGORICAL_COLUMNS = (JOB_TITLE, EDUCATION_LEVEL, LABEL)
INTEGER_COLUMNS = ("Average_Salary", "Years_Experience")
FLOAT_COLUMNS = (
    "AI_Exposure_Index",
    "Tech_Growth_Factor",
    AUTOMATION_PROBABILITY,
    *SKILLS,
)
NUMERIC_COLUMNS = INTEGER_COLUMNS + FLOAT_COLUMNS

# Value ranges of the real file (docs/dataset.md), inclusive.
NUMERIC_RANGES = {
    "Average_Salary": (30_000, 150_000),
    "Years_Experience": (0, 29),
    "AI_Exposure_Index": (0.0, 1.0),
    "Tech_Growth_Factor": (0.5, 1.5),
    AUTOMATION_PROBABILITY: (0.0, 1.0),
    **{skill: (0.0, 1.0) for skill in SKILLS},
}

# Job groups and the range Automation_Probability_2030 is drawn from.
JOB_GROUPS = (
    ((0.05, 0.30), ("AI Engineer", "Research Scientist", "Nurse", "Teacher", "Doctor")),
    (
        (0.30, 0.70),
        (
            "Financial Analyst",
            "Mechanic",
            "Lawyer",
            "HR Specialist",
            "UX Researcher",
            "Marketing Manager",
            "Chef",
            "Data Scientist",
            "Software Engineer",
            "Graphic Designer",
        ),
    ),
    (
        (0.70, 0.95),
        ("Truck Driver", "Customer Support", "Construction Worker", "Security Guard", "Retail Worker"),
    ),
)
JOB_TITLES = tuple(title for _, titles in JOB_GROUPS for title in titles)
EDUCATION_LEVELS = ("High School", "Bachelor's", "Master's", "PhD")
LABELS = ("Low", "Medium", "High")

LOW_MAX = 0.30
MEDIUM_MAX = 0.70


def risk_category(automation_probability: float) -> str:
    """The label rule of the real file: Low <= 0.30 < Medium <= 0.70 < High."""
    if automation_probability <= LOW_MAX:
        return "Low"
    if automation_probability <= MEDIUM_MAX:
        return "Medium"
    return "High"


# The feature schema shared by every trainer. The categories are fixed here,
# not learned from each node's data, so every model has the same feature
# vector and label indices (which makes per-node, unified and averaged models
# comparable). A category not listed goes to StringIndexer's "keep" bucket.
#
# Automation_Probability_2030 is left out on purpose: the label is a fixed
# threshold rule on it (docs/dataset.md), so using it would make the task a lookup
# of the label's own source. The models learn the label from the job and the
# other columns, as the original project's reference figures (F1 about 0.99,
# docs/dataset.md) assume.
FEATURE_CATEGORICAL = {JOB_TITLE: JOB_TITLES, EDUCATION_LEVEL: EDUCATION_LEVELS}
FEATURE_NUMERIC = tuple(c for c in NUMERIC_COLUMNS if c != AUTOMATION_PROBABILITY)

# The numeric features of each feature set. "full" adds the label's source
# column, for readers who want to see a model rediscover the label rule (a
# depth-2 decision tree does: MODEL=decision_tree FEATURES=full).
DEFAULT_FEATURE_SET = "default"
FEATURE_SETS = {DEFAULT_FEATURE_SET: FEATURE_NUMERIC, "full": NUMERIC_COLUMNS}


def feature_numeric(feature_set: str = DEFAULT_FEATURE_SET) -> tuple[str, ...]:
    """The numeric feature columns of `feature_set`; an unknown name is an error."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; "
                         f"choose one of {', '.join(FEATURE_SETS)}")
    return FEATURE_SETS[feature_set]
