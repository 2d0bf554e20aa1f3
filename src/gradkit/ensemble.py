"""Ensembles of trained runs under the name the course notes' method gives them
(``gradkit.ensemble``); they live with the search that produces them, gradkit.tune.ensemble.

    from gradkit.ensemble import Ensemble
    ens = Ensemble.from_study(tune.load("runs/tune-lenet"), top=5)
    ens.evaluate()     # {"accuracy", "loss", "members": [...]}
"""

from gradkit.tune.ensemble import METHODS, Ensemble

__all__ = ["Ensemble", "METHODS"]
