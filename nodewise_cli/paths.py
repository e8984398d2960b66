"""Where the controller keeps its files, relative to the project folder.

Plain names only (no pandas, no matplotlib), so that the light commands the
Makefile runs before every target can import them.
"""

import os

DATASET = os.path.join("data", "ai_jobs_2030.csv")
SPLIT_DIR = os.path.join("data", "split")
REPORTS_DIR = "reports"
RUNS_DIR = os.path.join(REPORTS_DIR, "runs")      # run and evaluation records
MODELS_DIR = os.path.join(REPORTS_DIR, "models")  # models fetched from the nodes
LOGS_DIR = os.path.join(REPORTS_DIR, "logs")      # make logs: one folder per node

# What `make report` writes into REPORTS_DIR.
SUMMARY_CSV = "summary.csv"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
F1_PNG = "f1_per_model.png"
TIME_PNG = "time_per_model.png"
RESOURCES_PNG = "resources_per_model.png"
NODES_PNG = "resources_per_node.png"
CURVE_PNG = "learning_curve.png"
LABELS_PNG = "labels_per_node.png"
ROUNDS_PNG = "fedavg_rounds.png"
SWEEP_CSV = "sweep.csv"  # make sweep: F1 per alpha, model and seed
SWEEP_PNG = "f1_against_alpha.png"
REPORT_FILES = (SUMMARY_CSV, REPORT_MD, REPORT_HTML, SWEEP_CSV, F1_PNG, TIME_PNG, RESOURCES_PNG,
                NODES_PNG, CURVE_PNG, LABELS_PNG, ROUNDS_PNG, SWEEP_PNG)
