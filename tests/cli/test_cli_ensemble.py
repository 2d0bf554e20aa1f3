"""`gradkit ensemble`: members and the ensemble scored on the test split, the folder saved."""

import json

from gradkit import cli


def test_an_ensemble_of_seeds_scores_its_members_and_itself(tmp_path, digits_argv, capsys,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = []
    for seed in (0, 1, 2):
        assert cli.main(["train", *digits_argv, "--seed", str(seed), "--out", f"s{seed}"]) == 0
        runs.append(f"s{seed}")
    capsys.readouterr()
    assert cli.main(["ensemble", *runs, "--out", "ens"]) == 0
    result = json.loads(capsys.readouterr().out)
    members = [m["accuracy"] for m in result["members"]]
    assert len(members) == 3 and 0 < result["accuracy"] <= 1
    assert result["accuracy"] >= sorted(members)[1]  # at least the median member
    assert (tmp_path / "ens" / "manifest.json").exists()


def test_ensemble_usage_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["ensemble"]) == 2
    err = capsys.readouterr().err
    assert "give run folders, or --study DIR" in err and "Traceback" not in err
