"""The checkpoint checksum covers the header metadata; malformed metadata is a CheckpointError."""

import json
import os
import struct

import pytest
import safetensors.numpy

from gradkit import optim
from gradkit.train import CheckpointError, checkpoint_info, load_checkpoint, save_checkpoint
from gradkit.train import checkpoint as ckpt


def _header(path):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def _rewrite(path, edit, resign=True):
    """Apply ``edit(metadata)`` to a checkpoint's header metadata; with ``resign`` the
    checksum is recomputed (a file as a buggy writer would leave it: only the parser stands
    between it and the model)."""
    header, body = _header(path)
    meta = header["__metadata__"]
    edit(meta)
    if resign:
        meta["checksum"] = ckpt._checksum(safetensors.numpy.load(path.read_bytes()), meta)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


@pytest.fixture
def saved(tk, tmp_path):
    model = tk.model()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt,
                           extra={"epoch": 2, "step": 10, "config": {"lr": 0.05}})
    return path, model, opt


def test_an_edited_lr_in_the_header_is_refused(saved):
    path, model, opt = saved
    _rewrite(path, lambda m: m.update(optimizer=m["optimizer"].replace('"lr": 0.05',
                                                                       '"lr": 9.05')),
             resign=False)
    assert '"lr": 9.05' in _header(path)[0]["__metadata__"]["optimizer"]
    with pytest.raises(CheckpointError, match="c.safetensors: corrupted.*metadata"):
        load_checkpoint(path, model, opt)
    assert opt.param_groups[0]["lr"] == 0.05


@pytest.mark.parametrize("field,value", [("step", "11"), ("rng", "{}"),
                                         ("gradkit.key_order", "[]")])
def test_every_metadata_field_is_covered(saved, field, value):
    path, model, _ = saved
    _rewrite(path, lambda m: m.update({field: value}), resign=False)
    with pytest.raises(CheckpointError, match="checksum"):
        checkpoint_info(path)


def test_a_format_1_file_still_loads(saved):
    path, model, opt = saved

    def legacy(meta):
        meta["gradkit.checkpoint"] = "gradkit.checkpoint/1"
        meta["checksum"] = ckpt._checksum(safetensors.numpy.load(path.read_bytes()))

    _rewrite(path, legacy, resign=False)
    assert load_checkpoint(path, model, opt)["step"] == 10


def test_a_format_2_file_cannot_pass_as_format_1(saved):
    path, model, _ = saved
    _rewrite(path, lambda m: m.update({"gradkit.checkpoint": "gradkit.checkpoint/1"}),
             resign=False)
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(path, model)


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("edit,message", [
    (lambda m: m.update(extra=m["extra"].replace('"step": 10',
                                                 '"step": {"__tensor__": "extra.nope"}')),
     r"malformed metadata in 'extra' \(no 'extra.nope'"),
    (lambda m: m.pop("model"), "the 'model' field is missing"),
    (lambda m: m.update(extra=DEEP), r"'extra' \(JSON nested too deep\)"),
    (lambda m: m.update(step='"ten"'), "'step' should be a int, got a str"),
    (lambda m: m.update(model='{"class": "Sequential"}'), "list of state-dict keys"),
    (lambda m: m.update(optimizer='{"class": "SGD", "state": {"state": {}}}'),
     r"malformed metadata in 'optimizer' \(no 'param_groups'"),
    (lambda m: m.update(extra='{"__tuple__": []}'), "'extra' is not a mapping"),
    (lambda m: m.update(scheduler='[3]'), "each 'scheduler' entry"),
])
def test_malformed_metadata_is_a_checkpoint_error(saved, edit, message):
    path, model, opt = saved
    _rewrite(path, edit)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path, model, opt)
    assert str(path) in str(info.value)


def test_a_deeply_nested_header_is_a_checkpoint_error(tmp_path):
    raw = DEEP.encode()
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(CheckpointError, match="deep.safetensors: corrupted.*nested too deep"):
        checkpoint_info(path)


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoints_follow_the_umask(tk, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = save_checkpoint(tmp_path / "c.safetensors", tk.model())
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == mode
