"""gradkit predict: polarity detection (--invert auto|yes|no), one-line errors for files that
are not images or are decompression bombs, and strict JSON (never NaN)."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gradkit import cli
from gradkit.cli.inputs import _polarity
from gradkit.experiment import load_run


def _strict(text):
    """json.loads that refuses NaN and Infinity, as strict JSON readers do."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def _digit(path, ink, paper):
    """A 28×28 'zero': a stroke of colour ``ink`` on a canvas of colour ``paper``."""
    img = Image.new("L", (28, 28), paper)
    ImageDraw.Draw(img).ellipse((8, 5, 20, 23), outline=ink, width=3)
    img.save(path)
    return path


@pytest.fixture
def drawings(tmp_path):
    return (_digit(tmp_path / "black_on_white.png", 0, 255),
            _digit(tmp_path / "white_on_black.png", 255, 0))


def _predict(run, *argv):
    return cli.main(["predict", "--checkpoint", str(run), "--top-k", "10", *map(str, argv)])


def _probs(result):
    return {t["index"]: t["probability"] for t in result["top"]}


def test_a_dark_drawing_on_white_is_inverted(tiny_digits_run, drawings, capsys):
    black_on_white, white_on_black = drawings
    assert _predict(tiny_digits_run, black_on_white, white_on_black) == 0
    captured = capsys.readouterr()
    flipped, plain = _strict(captured.out)
    assert (flipped["inverted"], plain["inverted"]) == (True, False)
    note = captured.err.strip()
    assert note.startswith(f"gradkit predict: {black_on_white}: inverted it (x -> 1 - x)")
    assert "border mean 1.00" in note and "--invert no keeps it" in note
    mean = float(np.mean(load_run(tiny_digits_run / "checkpoints" / "last.safetensors")
                         .preprocessor.mean))
    assert f"training mean {mean:.2f}" in note and mean < 0.5
    p, q = _probs(flipped), _probs(plain)  # the inverted drawing is the white-on-black one
    assert [p[i] for i in range(10)] == pytest.approx([q[i] for i in range(10)], abs=0.02)


def test_invert_no_and_yes(tiny_digits_run, drawings, capsys):
    black_on_white, white_on_black = drawings
    assert _predict(tiny_digits_run, "--invert", "no", black_on_white, white_on_black) == 0
    captured = capsys.readouterr()
    kept, plain = _strict(captured.out)
    assert kept["inverted"] is False and captured.err == ""
    assert _probs(kept) != pytest.approx(_probs(plain), abs=0.02)
    assert _predict(tiny_digits_run, "--invert", "yes", white_on_black) == 0
    captured = capsys.readouterr()
    assert _strict(captured.out)[0]["inverted"] is True
    assert "inverted (x -> 1 - x), as --invert yes asks" in captured.err


def test_polarity_follows_the_training_background():
    light_border = np.ones((1, 28, 28), np.float32)
    light_border[0, 10:18, 10:18] = 0.0
    dark_border = 1.0 - light_border
    assert _polarity(light_border, "auto", 0.13)[0] is True
    assert _polarity(light_border, "auto", None)[0] is True  # no statistics: MNIST's convention
    assert _polarity(dark_border, "auto", 0.13) == (False, None)
    flip, note = _polarity(dark_border, "auto", 0.8)  # trained on light backgrounds
    assert flip and "a light drawing on a dark background" in note and "mean 0.80" in note
    assert _polarity(light_border, "auto", 0.8) == (False, None)
    assert _polarity(np.ones((1, 8, 8), np.float32), "auto", 0.1) == (False, None)  # blank
    rgb = np.repeat(light_border, 3, axis=0)
    assert _polarity(rgb, "auto", 0.1) == (False, None)  # colour images are left alone
    assert _polarity(rgb, "yes", 0.1)[0] is True


def _one_line_error(capsys, *needles):
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def test_unreadable_images_name_the_file(tiny_digits_run, tmp_path, capsys):
    text = tmp_path / "x.png"
    text.write_text("hi\n")
    assert _predict(tiny_digits_run, text) == 2
    _one_line_error(capsys, f"gradkit predict: error: {text} is not an image Pillow can read",
                    "give a PNG or JPEG file")
    good = _digit(tmp_path / "torn.png", 0, 255)
    good.write_bytes(good.read_bytes()[:60])  # a PNG cut short
    assert _predict(tiny_digits_run, good) == 2
    _one_line_error(capsys, f"{good} is not an image Pillow can read")
    assert _predict(tiny_digits_run, tmp_path / "absent.png") == 2
    _one_line_error(capsys, f"no file {tmp_path / 'absent.png'}")


@pytest.mark.parametrize("limit", [500, 100])  # 28×28 = 784 pixels: a warning, then an error
def test_a_decompression_bomb_is_refused(limit, tiny_digits_run, drawings, monkeypatch,
                                         capsys):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    assert _predict(tiny_digits_run, drawings[0]) == 2
    _one_line_error(capsys, f"{drawings[0]}: refused to decode a possible decompression bomb",
                    "784 pixels")


def test_non_finite_inputs_are_refused(tiny_digits_run, tmp_path, capsys):
    x = np.zeros((2, 1, 8, 8), np.float32)
    x[1, 0, 3, 3] = np.nan
    np.save(tmp_path / "nan.npy", x)
    assert _predict(tiny_digits_run, tmp_path / "nan.npy") == 2
    _one_line_error(capsys, f"{tmp_path / 'nan.npy'} holds 1 NaN or infinite values (of 128)")
    x[1, 0, 3, 3] = np.inf
    np.savez(tmp_path / "inf.npz", x=x)
    assert _predict(tiny_digits_run, tmp_path / "inf.npz") == 2
    _one_line_error(capsys, "inf.npz holds 1 NaN or infinite values")
    np.savez(tmp_path / "empty.npz")
    assert _predict(tiny_digits_run, tmp_path / "empty.npz") == 2
    _one_line_error(capsys, "empty.npz as a NumPy file (it holds no arrays)")
    (tmp_path / "bad.npz").write_text("not a zip")
    assert _predict(tiny_digits_run, tmp_path / "bad.npz") == 2
    _one_line_error(capsys, f"cannot read {tmp_path / 'bad.npz'} as a NumPy file")


def test_an_image_for_a_vector_model_names_the_file(tmp_path, capsys):
    from gradkit.cli.inputs import read_inputs

    path = _digit(tmp_path / "d.png", 0, 255)
    with pytest.raises(ValueError, match=rf"^{path}: the model takes samples of shape \(2,\), "
                                         "not images; give an .npz"):
        read_inputs(path, (2,))


def test_finite_arrays_give_strict_json(tiny_digits_run, tmp_path, capsys):
    x = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)  # (N, H, W): one channel
    np.save(tmp_path / "x.npy", x)
    assert _predict(tiny_digits_run, tmp_path / "x.npy") == 0
    results = _strict(capsys.readouterr().out)
    assert [r["input"] for r in results] == [f"{tmp_path / 'x.npy'}[{i}]" for i in range(3)]
    assert all(r["inverted"] is False and len(r["top"]) == 10 for r in results)
    assert sum(t["probability"] for t in results[0]["top"]) == pytest.approx(1, abs=1e-5)


def test_nan_weights_never_print_nan(tiny_digits_run, tmp_path, monkeypatch, capsys):
    from gradkit.experiment import LoadedRun

    monkeypatch.setattr(LoadedRun, "logits", lambda self, x: np.full((len(x), 10), np.nan))
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 8, 8), np.float32))
    assert _predict(tiny_digits_run, tmp_path / "x.npy") == 2
    _one_line_error(capsys, "gives a non-finite output: its weights hold NaN or infinity")
    assert cli.main(["eval", "--checkpoint", str(tiny_digits_run)]) == 2
    _one_line_error(capsys, "gives a non-finite loss")
