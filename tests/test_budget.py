"""The time limit on analysing one spec holds even where Python discards
the exception it raises (a gc callback, a __del__)."""

import time
from contextlib import suppress

import pytest

from codegen.analysis.budget import OverBudget, budget, stage


def test_an_expiry_the_block_swallowed_still_refuses_it_naming_the_stage():
    with pytest.raises(OverBudget) as refusal, budget(0.01):
        stage("derive")
        with suppress(OverBudget):  # as the caller of a gc callback does
            time.sleep(1)
        stage("emit")
    assert refusal.value.stage == "derive"


def test_the_expiry_repeats_so_work_after_a_swallowed_one_is_stopped():
    reached = []
    with pytest.raises(OverBudget), budget(0.01):
        with suppress(OverBudget):
            time.sleep(1)
        time.sleep(5)
        reached.append("end")
    assert reached == []


def test_a_block_within_its_budget_returns_and_leaves_no_timer_behind():
    with budget(1.0):
        value = sum(range(10))
    time.sleep(0.3)  # past a repeat, were the timer still armed
    assert value == 45
