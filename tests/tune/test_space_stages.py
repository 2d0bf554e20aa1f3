"""The search space's checks and the coarse-to-fine rules (narrowing, widening, edge warning)."""

import math

import pytest

from gradkit import tune
from gradkit.config import ConfigError, make_config
from gradkit.tune.space import check_space, config_data, parse_space
from gradkit.tune.stages import edge_warnings, narrow_space, plan_stages
from gradkit.tune.study import open_storage

DATA = config_data(make_config({"model": {"name": "mlp"}, "dataset": {"name": "spiral"}}))


def test_yaml_form_equals_python_form():
    parsed = parse_space({"optimizer.lr": {"loguniform": ["1e-5", 0.1]},
                          "batch_size": {"choice": [32, 64]},
                          "model.kwargs.depth": {"intuniform": [1, 4]}})
    assert parsed == {"optimizer.lr": tune.loguniform(1e-5, 0.1),
                      "batch_size": tune.choice([32, 64]),
                      "model.kwargs.depth": tune.intuniform(1, 4)}


@pytest.mark.parametrize("space, message", [
    ({"optimizer.lrr": tune.loguniform(1e-4, 1e-1)},
     "space: optimizer.lrr = 0.0001 is not a valid run config: optimizer.lrr: unknown key; "
     "allowed: name, lr, momentum, nesterov, weight_decay, betas, eps"),
    ({"optimizer.lr": tune.loguniform(0.1, 1e-4)},
     "optimizer.lr: empty or inverted range loguniform(0.1, 0.0001): low must be < high"),
    ({"optimizer.lr": tune.uniform(0.1, 0.1)},
     "optimizer.lr: empty or inverted range uniform(0.1, 0.1): low must be < high"),
    ({"optimizer.weight_decay": tune.loguniform(0, 1e-2)},
     "optimizer.weight_decay: the log range loguniform(0, 0.01) must stay above 0"),
    ({"regularization.dropout": tune.uniform(0, 1.5)},
     "space: regularization.dropout = 1.5 is not a valid run config: "
     "regularization.dropout: must be < 1, got 1.5"),
    ({"batch_size": tune.choice([])}, "batch_size: choice([]) has nothing to choose from"),
    ({"model.kwargs.hidden": tune.choice([[16]])},
     "model.kwargs.hidden: choice values must be numbers, strings, booleans or null (what "
     "Optuna stores), got [16]; search the parts of a list as keys of their own"),
])
def test_space_errors_name_the_key(space, message):
    with pytest.raises(ConfigError) as err:
        check_space(DATA, parse_space(space))
    assert err.value.errors == [message]


def test_unopenable_storage_is_one_line():
    with pytest.raises(ConfigError) as err:
        open_storage("sqlite:////no/such/folder/x.db")
    assert len(err.value.errors) == 1
    assert err.value.errors[0].startswith("storage: cannot open 'sqlite:////no/such/folder/")


def test_plan_stages():
    assert plan_stages("coarse-to-fine", 40, 10) == [{"trials": 30, "epochs": 1},
                                                      {"trials": 10, "epochs": 10}]
    assert plan_stages(None, 5, 3) == [{"trials": 5, "epochs": 3}]
    with pytest.raises(ValueError, match="trials=5 but the stages add up to 3"):
        plan_stages([{"trials": 3, "epochs": 1}], 5, 3)
    with pytest.raises(ValueError, match="stage 1 has unknown keys"):
        plan_stages([{"trials": 3, "epochs": 1, "lr": 1}], None, 3)


def test_narrowing_is_the_top_span_padded_in_log_space():
    space = {"optimizer.lr": tune.loguniform(1e-5, 1e-1), "batch_size": tune.choice([16, 32, 64])}
    ranked = [{"optimizer.lr": 1e-3, "batch_size": 32}, {"optimizer.lr": 1e-2, "batch_size": 64},
              {"optimizer.lr": 1e-4, "batch_size": 32}, {"optimizer.lr": 1e-5, "batch_size": 16}]
    new, lines = narrow_space(space, ranked, top=3)
    lr = new["optimizer.lr"]
    # top 3 span log10 in [-4, -2]; padding is 10% of the 4-decade width: 0.4 decade
    assert math.log10(lr.low) == pytest.approx(-4.4) and math.log10(lr.high) == pytest.approx(-1.6)
    assert lr.log
    assert new["batch_size"] == tune.choice([32, 64])
    assert lines == ["optimizer.lr: [1e-05, 0.1] -> [3.98e-05, 0.0251] (the top 3's span, "
                     "log scale)",
                     "batch_size: [16, 32, 64] -> [32, 64] (the values the top 3 used)"]


def test_best_at_an_edge_widens_that_edge():
    space = {"optimizer.lr": tune.loguniform(1e-4, 1e-1), "regularization.dropout":
             tune.uniform(0.0, 0.5)}
    ranked = [{"optimizer.lr": 0.09, "regularization.dropout": 0.01},
              {"optimizer.lr": 0.02, "regularization.dropout": 0.2}]
    accepts = lambda key, value: value >= 0  # noqa: E731  (a dropout below 0 is refused)
    new, lines = narrow_space(space, ranked, top=2, accepts=accepts)
    lr, dropout = new["optimizer.lr"], new["regularization.dropout"]
    # 0.09 lies in lr's top 10% (log): the top edge moves 1.5 decades up, past 1e-1
    assert math.log10(lr.high) == pytest.approx(-1 + 1.5)
    assert math.log10(lr.low) == pytest.approx(math.log10(0.02) - 0.3)
    # 0.01 lies in dropout's bottom 10%, but -0.25 is refused: the edge stays at 0
    assert (dropout.low, dropout.high) == (0.0, pytest.approx(0.25))
    assert "widened the high edge: the best, 0.09, lies in its outer 10%, log scale" in lines[0]
    assert lines[1] == ("regularization.dropout: [0, 0.5] -> [0, 0.25] (the top 2's span; the "
                        "low edge stays: the config refuses -0.25)")


def test_integer_range_narrows_to_integers():
    space = {"model.kwargs.depth": tune.intuniform(1, 9)}
    new, _ = narrow_space(space, [{"model.kwargs.depth": d} for d in (4, 6, 5)])
    assert new["model.kwargs.depth"] == tune.intuniform(3, 7)


def test_edge_warning():
    space = {"optimizer.lr": tune.loguniform(1e-5, 1e-1), "regularization.dropout":
             tune.uniform(0.0, 0.5)}
    ranked = [{"optimizer.lr": lr, "regularization.dropout": 0.25}
              for lr in (0.09, 0.05, 0.08, 1e-3, 0.07, 1e-5)]
    assert edge_warnings(space, ranked) == [
        "optimizer.lr: the best 4 of 5 trials lie in the top 10% of its range "
        "loguniform(1e-05, 0.1): the best value may lie beyond it; widen that edge"]
