"""Pooling decisions: as documented in gutaxis.evidence.decisions, never double counting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gutaxis.errors import InputError
from gutaxis.evidence import EvidenceTable, PoolingPlan, plan_pooling
from gutaxis.evidence.decisions import combine_arms


@pytest.fixture(scope="module")
def plan(evidence: EvidenceTable) -> PoolingPlan:
    return plan_pooling(evidence)


def verdict(plan: PoolingPlan, contrast_id: str) -> tuple[bool, str]:
    frame = plan.verdicts_frame().set_index("contrast_id")
    return bool(frame.loc[contrast_id, "usable"]), str(frame.loc[contrast_id, "reason"])


def test_only_ibs_sss_total_has_three_trials_with_complete_numbers(plan: PoolingPlan) -> None:
    poolable = [(d.condition, d.outcome) for d in plan.decisions if d.poolable]
    assert poolable == [("ibs", "ibs_sss_total")]
    decision = plan.decision("ibs", "ibs_sss_total")
    assert {s.trial_id for s in decision.studies} == {"lyra2016", "sisson2014", "martoni2023"}
    assert decision.measure == "MD"


def test_thin_groups_say_so_with_the_count(plan: PoolingPlan) -> None:
    das28 = plan.decision("rheumatoid_arthritis", "das28")
    assert not das28.poolable
    assert das28.reason.startswith("not pooled: 1 of 8 trials usable, fewer than 3")
    for condition in ("osteoarthritis", "fibromyalgia", "low_back_pain"):
        assert not any(d.poolable for d in plan.decisions if d.condition == condition)


@pytest.mark.parametrize(("contrast_id", "reason"), [
    ("taye2020-nof1-pain", "not a parallel-group randomised trial"),
    ("athul2019-bsubtilis-vs-amitriptyline-pain", "not a parallel-group randomised trial"),
    ("nandyroy2021-biotherapi-vs-soc-das28", "no placebo control"),
    ("iqbal2024-bclausii-vs-soc-das28", "no placebo control"),
    ("fortuna2024-inulin-vs-placebo-pain", "prebiotic fibre arm"),
    ("bijkerk2009-psyllium-vs-placebo-ibssss", "fibre arm"),
    ("dolatkhah2024-sb-vs-placebo-pain", "sources disagree on intervention change_mean"),
    ("hong2009-mix-vs-placebo-abdpain", "incomplete: intervention change_sd"),
    ("skrzydlo2021-mix-vs-placebo-ibssss",
     "incomplete: intervention n (analysed, randomised or allocated), control n"),
    ("martoni2020-dds1-vs-placebo-ibssss", "incomplete: control change_mean"),
    ("jensen2019-lgg-vs-placebo-pain", "cannot enter an SMD analysis"),
    ("pineda2011-gr1rc14-vs-placebo-acr20", "responder outcomes are listed only"),
    ("zamani2017-synbiotic-vs-placebo-das28", "possible overlapping participants with zamani2016"),
])
def test_each_rule_gives_its_documented_reason(plan: PoolingPlan, contrast_id: str,
                                               reason: str) -> None:
    usable, text = verdict(plan, contrast_id)
    assert not usable
    assert reason in text


def test_a_reported_difference_with_ci_enters_an_md_analysis(plan: PoolingPlan) -> None:
    assert verdict(plan, "sisson2014-symprove-vs-placebo-ibssss") == (True, "")
    sisson = next(s for s in plan.decision("ibs", "ibs_sss_total").studies
                  if s.trial_id == "sisson2014")
    assert sisson.from_difference
    assert (sisson.md, sisson.md_ci_low, sisson.md_ci_high) == (-35.0, -62.03, -7.87)


def test_double_counted_trials_are_never_pooled_together(plan: PoolingPlan,
                                                         evidence: EvidenceTable) -> None:
    overlap = evidence.contrasts.set_index("trial_id")["overlap_group"].to_dict()
    for decision in plan.decisions:
        trials = [s.trial_id for s in decision.studies]
        assert len(trials) == len(set(trials))  # a trial's arms become one input
        groups = [overlap[t] for t in trials if overlap[t]]
        assert len(groups) == len(set(groups))  # one trial per overlap group
        ids = [c for s in decision.studies for c in s.contrasts]
        assert len(ids) == len(set(ids))


def test_three_arm_trials_share_their_control_once(plan: PoolingPlan) -> None:
    martoni = next(s for s in plan.decision("ibs", "ibs_sss_total").studies
                   if s.trial_id == "martoni2023")
    assert len(martoni.contrasts) == 2
    assert (martoni.n_t, martoni.n_c) == (203.0, 104.0)
    assert martoni.mean_c == -58.82
    n, mean, sd = combine_arms([104, 99], [-128.45, -156.77], [83.30, 99.06])
    assert (martoni.n_t, martoni.mean_t, martoni.sd_t) == (n, mean, sd)


def test_certainty_notes_name_missing_trials_bias_and_meta_analyses(plan: PoolingPlan) -> None:
    notes = " | ".join(plan.decision("ibs", "ibs_sss_total").certainty_notes)
    assert "3 of 6 trials could not be included" in notes
    assert "industry-funded" in notes
    assert "randomised n used" in notes
    assert "not pooled with the trials" in notes


def test_selection_and_minimum_are_honoured(evidence: EvidenceTable) -> None:
    plan = plan_pooling(evidence, condition="ibs", outcome="ibs_sss_total", min_trials=4)
    assert len(plan.decisions) == 1 and not plan.decisions[0].poolable
    assert "fewer than 4" in plan.decisions[0].reason
    with pytest.raises(InputError, match="at least 2 trials"):
        plan_pooling(evidence, min_trials=1)


def test_plan_frames_have_their_columns(plan: PoolingPlan, evidence: EvidenceTable) -> None:
    frame = plan.to_frame()
    assert list(frame["poolable"]).count(True) == 1
    assert len(plan.verdicts_frame()) == len(evidence.contrasts)
    assert "1 of 15" in plan.summary()


@given(st.lists(st.tuples(st.integers(2, 30), st.integers(0, 10_000)), min_size=1, max_size=4))
def test_combined_arms_are_the_statistics_of_all_members(arms: list[tuple[int, int]]) -> None:
    samples = [np.random.default_rng(seed).normal(seed % 7, 1 + seed % 3, size)
               for size, seed in arms]
    n, mean, sd = combine_arms([len(s) for s in samples], [s.mean() for s in samples],
                               [s.std(ddof=1) for s in samples])
    everyone = np.concatenate(samples)
    assert n == len(everyone)
    assert mean == pytest.approx(everyone.mean(), rel=1e-9, abs=1e-9)
    assert sd == pytest.approx(everyone.std(ddof=1), rel=1e-9)
