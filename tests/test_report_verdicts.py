"""The report's sentences (nodewise_cli/report/verdicts.py): who wins, by how much, beyond
the spread over seeds or not, what owning the data separately costs, and what the learning
curve shows."""

from __future__ import annotations

from nodewise_cli.report import records, tables, verdicts
from report_support import LABEL_SPLIT, curve_of, node_work, summary_of, write_fedavg


def test_verdict_says_who_wins_and_whether_it_beats_the_spread():
    summary = summary_of([("unified", 1, 0.99), ("unified", 2, 0.99),
                          ("w1", 1, 0.95), ("w1", 2, 0.97), ("w2", 1, 0.96), ("w2", 2, 0.96)])
    assert verdicts.verdict(summary) == [
        "On the global test set the best mean F1 is unified's, 0.9900 over 2 seed(s).",
        "The unified model is 0.0300 above the per-node models' mean (0.9600); the largest "
        "standard deviation over seeds is 0.0141, so the difference exceeds the spread over seeds.",
        # w1 (0.95, 0.97) and w2 (0.96, 0.96) tie: no worst and best to name
        "Every per-node model (mean F1 0.9600) is 0.0300 below the unified model (0.9900); the "
        "largest standard deviation over seeds is 0.0141, so the difference exceeds the spread "
        "over seeds.",
        "Training on one node's rows alone costs 0.0300 of F1 against the unified model."]


def test_verdict_reports_a_tie_within_the_spread():
    summary = summary_of([("unified", 1, 0.99), ("w1", 1, 0.99), ("unified", 2, 0.98),
                          ("w1", 2, 0.98)])
    lines = verdicts.verdict(summary)
    assert lines[0] == "On the global test set unified, w1 tie at a mean F1 of 0.9850 over 2 seed(s)."
    assert lines[1].endswith("so the difference does not exceed the spread over seeds.")
    assert lines[1].startswith("The unified model is level with the per-node models' mean (0.9850);")


def test_verdict_compares_the_average_with_unified_and_names_the_reference():
    summary = summary_of([("unified", 1, 0.99), ("unified", 2, 0.98), ("average", 1, 0.97),
                          ("average", 2, 0.96), ("w1", 1, 0.95), ("w1", 2, 0.95),
                          ("sklearn", 1, 0.995), ("sklearn", 2, 0.995)])
    lines = verdicts.verdict(summary)
    assert lines[0] == "On the global test set the best mean F1 is unified's, 0.9850 over 2 seed(s)."
    assert lines[2] == (
        "The one-shot average of the per-node models (their coefficients averaged once, weighted "
        "by row count; no row moved) is 0.0200 below the unified model (0.9850); the largest "
        "standard deviation over seeds is 0.0071, so the difference exceeds the spread over seeds.")
    # the reference is not a contender, but its F1 and fit time are stated (fit 1 + seed)
    assert lines[3] == (
        "scikit-learn on one machine (same splits, features and classifier family) scores "
        "0.9950 against unified's 0.9850, and fits in 2.50 s against 2.50 s.")


def test_verdict_with_one_seed_does_not_claim_a_spread():
    lines = verdicts.verdict(summary_of([("unified", 1, 0.99), ("w1", 1, 0.95)]))
    assert lines[1] == ("The unified model is 0.0400 above the per-node models' mean (0.9500); "
                        "with one seed there is no spread over seeds to judge the difference by.")


def test_verdict_compares_on_the_seeds_both_models_have():
    summary = summary_of([("unified", 1, 0.99), ("unified", 2, 0.95), ("unified", 3, 0.94),
                          ("average", 1, 0.98)])
    lines = verdicts.verdict(summary)
    assert lines[0] == "On the global test set the best mean F1 is average's, 0.9800 over 1 seed(s)."
    # seed 1 only: 0.98 against 0.99, not against unified's mean over three seeds (0.96)
    assert lines[1] == (
        "The one-shot average of the per-node models (their coefficients averaged once, weighted "
        "by row count; no row moved) is 0.0100 below the unified model (0.9900) on seed(s) 1, "
        "which both have; with one seed there is no spread over seeds to judge the difference by.")


def test_verdict_goes_across_every_model_and_closes_on_what_owning_the_data_costs():
    # label skew: w1 holds mostly one label, fedavg recovers what the per-node models lose
    summary = summary_of([("unified", 1, 0.995), ("unified", 2, 0.993), ("fedavg", 1, 0.994),
                          ("fedavg", 2, 0.992), ("average", 1, 0.93), ("average", 2, 0.91),
                          ("vote", 1, 0.90), ("vote", 2, 0.88), ("w1", 1, 0.42), ("w1", 2, 0.44),
                          ("w2", 1, 0.92), ("w2", 2, 0.90), ("w3", 1, 0.70), ("w3", 2, 0.72)])
    assert verdicts.verdict(summary) == [
        "On the global test set the best mean F1 is unified's, 0.9940 over 2 seed(s).",
        "The unified model is 0.3107 above the per-node models' mean (0.6833); the largest "
        "standard deviation over seeds is 0.0141, so the difference exceeds the spread over seeds.",
        "The worst per-node model, w1 (mean F1 0.4300), is 0.5640 below the unified model "
        "(0.9940); the largest standard deviation over seeds is 0.0141, so the difference exceeds "
        "the spread over seeds.",
        "The best per-node model, w2 (mean F1 0.9100), is 0.0840 below the unified model "
        "(0.9940); the largest standard deviation over seeds is 0.0141, so the difference exceeds "
        "the spread over seeds.",
        "The federated-averaging model (rounds of training on each node's own rows; no row moved) "
        "is 0.0010 below the unified model (0.9940); the largest standard deviation over seeds is "
        "0.0014, so the difference does not exceed the spread over seeds.",
        "The one-shot average of the per-node models (their coefficients averaged once, weighted "
        "by row count; no row moved) is 0.0740 below the unified model (0.9940); the largest "
        "standard deviation over seeds is 0.0141, so the difference exceeds the spread over seeds.",
        "The vote of the per-node models is 0.1040 below the unified model (0.9940); the largest "
        "standard deviation over seeds is 0.0141, so the difference exceeds the spread over seeds.",
        "Training on one node's rows alone costs between 0.0840 and 0.5640 of F1 against the "
        "unified model; federated averaging, with no row moved either, gets back all but 0.0010 "
        "of it, a remainder within the spread over seeds (the largest standard deviation of "
        "unified and fedavg over seeds is 0.0014)."]


def test_the_cost_of_owning_the_data_and_a_fedavg_remainder_beyond_the_spread():
    summary = summary_of([("unified", 1, 0.99), ("unified", 2, 0.99), ("fedavg", 1, 0.90),
                          ("fedavg", 2, 0.92), ("w1", 1, 0.50), ("w1", 2, 0.52),
                          ("w2", 1, 0.80), ("w2", 2, 0.82)])
    assert verdicts.verdict(summary)[-1] == (
        "Training on one node's rows alone costs between 0.1800 and 0.4800 of F1 against the "
        "unified model; federated averaging, with no row moved either, gets back all but 0.0800 "
        "of it, a remainder beyond the spread over seeds (the largest standard deviation of "
        "unified and fedavg over seeds is 0.0141).")


def test_the_cost_of_owning_the_data_with_one_seed_and_fedavg_above_or_below_the_nodes():
    def closing(fedavg):
        return verdicts.verdict(summary_of([("unified", 1, 0.99), ("fedavg", 1, fedavg),
                                            ("w1", 1, 0.50), ("w2", 1, 0.80)]))[-1]

    cost = ("Training on one node's rows alone costs between 0.1900 and 0.4900 of F1 against "
            "the unified model; federated averaging, with no row moved either, ")
    assert closing(0.985) == cost + (
        "gets back all but 0.0050 of it; with one seed there is no spread over seeds to judge "
        "that remainder by.")
    assert closing(0.995) == cost + "gets all of it back."
    assert closing(0.99002) == cost + "gets all of it back."  # level with unified: a tie
    assert closing(0.70) == cost + (
        "ends 0.2900 below the unified model, no better than the best per-node model.")


def test_no_cost_of_owning_the_data_is_claimed_where_the_numbers_show_none():
    # iid: the worst node is 0.0005 below unified, within the spread (0.0028)
    iid = summary_of([("unified", 1, 0.992), ("unified", 2, 0.990), ("w1", 1, 0.991),
                      ("w1", 2, 0.990), ("w2", 1, 0.993), ("w2", 2, 0.989)])
    assert verdicts.verdict(iid)[-1] == (
        "Training on one node's rows alone costs no F1 beyond the spread over seeds here: the "
        "worst per-node model is 0.0005 below the unified model, and the largest standard "
        "deviation over seeds is 0.0028.")
    above = summary_of([("unified", 1, 0.99), ("w1", 1, 0.992), ("w2", 1, 0.995)])
    lines = verdicts.verdict(above)
    assert lines[2] == ("The worst per-node model, w1 (mean F1 0.9920), is 0.0020 above the "
                        "unified model (0.9900); with one seed there is no spread over seeds to "
                        "judge the difference by.")
    assert lines[-1] == ("Training on one node's rows alone costs no F1 against the unified model "
                         "here: every per-node model scores at least as well.")


def test_the_cost_of_owning_the_data_is_taken_on_the_seeds_every_model_has():
    summary = summary_of([("unified", 1, 0.99), ("unified", 2, 0.97), ("fedavg", 1, 0.98),
                          ("w1", 1, 0.5), ("w1", 2, 0.6), ("w2", 1, 0.8), ("w2", 2, 0.7)])
    lines = verdicts.verdict(summary)
    # the range over both seeds; the cost over seed 1, the only one fedavg has
    assert lines[2].startswith("The worst per-node model, w1 (mean F1 0.5500), is 0.4300 below")
    assert lines[-1] == (
        "Training on one node's rows alone costs between 0.1900 and 0.4900 of F1 against the "
        "unified model on seed(s) 1, which all have; federated averaging, with no row moved "
        "either, gets back all but 0.0100 of it; with one seed there is no spread over seeds to "
        "judge that remainder by.")


def test_unified_runs_gathered_into_fewer_partitions_than_slots_are_named():
    def unified(seed, partitions):
        return {"run_id": f"u{seed}", "model": "unified", "seed": seed, "finished_at": str(seed),
                "task_slots": 3, "params": {"train_partitions": partitions},
                "work_per_node": {"master": node_work(1.0, 10, 500)}}

    assert verdicts.gathered_words([unified(1, 3), unified(2, 3)]) == ""
    words = verdicts.gathered_words([unified(1, 1), unified(2, 3), unified(3, 1)])
    assert words.startswith("2 of these runs trained in 1 partition(s), fewer than")
    assert verdicts.gathered_words([unified(1, 2), unified(2, 1)]).startswith(
        "2 of these runs trained in 1 or 2 partition(s)")


def test_curve_words_say_so_when_the_spread_does_not_shrink():
    stats = tables.curve_stats(curve_of([(1, 50, False, 0, 0.9), (1, 50, False, 1, 0.9),
                                         (1, 100, False, 0, 0.8), (1, 100, False, 1, 0.9)]))
    assert verdicts.curve_words(stats).startswith("Here the spread does not shrink with more rows")


def test_ownership_words_name_the_split_its_draws_and_the_most_skewed_node():
    words = verdicts.ownership_words(LABEL_SPLIT, tables.label_counts(LABEL_SPLIT))
    assert words == (
        "Split: SPLIT=label ALPHA=0.3 SPLIT_SEED=42 (drawn 2 times: the earlier draws left a node "
        "without rows). The node whose labels differ most from the whole data's is w1: a total "
        "variation distance of 0.533 (0: the same label shares, 1: no label in common).")


def test_the_verdict_compares_fedavg_with_unified():
    lines = verdicts.verdict(summary_of([("unified", 1, 0.99), ("fedavg", 1, 0.985), ("w1", 1, 0.95)]))
    assert lines[2] == (
        "The federated-averaging model (rounds of training on each node's own rows; no row moved) "
        "is 0.0050 below the unified model (0.9900); with one seed there is no spread over seeds "
        "to judge the difference by.")


def test_rounds_words_say_how_far_the_loss_fell(tmp_path):
    write_fedavg(tmp_path, 1, [0.8, 0.3, 0.2])
    trains, _ = records.load_records(str(tmp_path))
    assert verdicts.rounds_words(tables.fedavg_rounds(trains), trains).endswith(
        "The global training loss fell from 0.8000 after round 1 to 0.2000 after round 3 "
        "(mean over 1 run(s)).")
