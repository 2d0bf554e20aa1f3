"""Reading, merging, validating and writing run configs; errors that name the key path."""

import json
import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

from gradkit.config.schema import Config


class ConfigError(ValueError):
    """An invalid run configuration; ``errors`` is a list of ``"key.path: message"`` lines."""

    def __init__(self, errors, source=None):
        self.errors = list(errors)
        where = f" in {source}" if source else ""
        super().__init__(f"invalid config{where}:\n  " + "\n  ".join(self.errors))


def _path(loc):
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields_at(loc):
    """The field names of the section at ``loc`` (for 'unknown key' messages)."""
    model = Config
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        args = getattr(annotation, "__args__", ())
        model = next((a for a in (annotation, *args)
                      if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _message(error):
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    got = f", got {json.dumps(value, default=str)}"
    bounds = {"greater_than": ("> ", "gt"), "greater_than_equal": (">= ", "ge"),
              "less_than": ("< ", "lt"), "less_than_equal": ("<= ", "le")}
    if kind in bounds:
        word, key = bounds[kind]
        bound = ctx[key]
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"must be {word}{bound}{got}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}{got}"
    if kind == "extra_forbidden":
        return f"unknown key; allowed: {', '.join(_fields_at(error['loc'][:-1]))}"
    if kind == "missing":
        return "required"
    if kind == "int_type":
        return f"must be an integer (not true/false, not a decimal){got}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"][0].lower() + error["msg"][1:] + got


def _errors(err):
    lines = []
    for error in err.errors():
        loc, message = _path(error["loc"]), _message(error)
        if error["type"] == "value_error" and ": " in message and " " not in \
                message.split(": ", 1)[0]:
            sub, message = message.split(": ", 1)  # a validator naming its own field
            loc = f"{loc}.{sub}" if loc else sub
        lines.append(f"{loc or 'config'}: {message}")
    return lines


def make_config(data=None, source=None):
    """A Config from nested plain data (e.g. parsed YAML); ConfigError on a mistake."""
    try:
        return Config.model_validate(data or {})
    except ValidationError as err:
        raise ConfigError(_errors(err), source) from None


def set_key(data, dotted, value):
    """``set_key(d, "optimizer.lr", 0.1)``: set a nested key in plain data, in place."""
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[last] = value
    return data


def read_yaml(path):
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError([f"config: no file {path}"]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"config: not valid YAML ({err})"], path) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError([f"config: expected a mapping of keys at the top, got a "
                           f"{type(data).__name__}"], path)
    return data or {}


def merge(base, layer):
    """``layer`` deep-merged over ``base`` (plain data; neither is changed). Lists and scalars
    in ``layer`` replace; dicts merge key by key, except that a section whose ``name``
    changes starts afresh from the layer (``optimizer: {name: adam}`` over an SGD section
    does not inherit SGD's momentum; a new model does not inherit the old one's kwargs)."""
    out = dict(base)
    for key, value in layer.items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            renamed = "name" in value and "name" in old and value["name"] != old["name"]
            out[key] = dict(value) if renamed else merge(old, value)
        else:
            out[key] = value
    return out


def load_config(path=None, overrides=None):
    """The main job's config, with a YAML file merged over it (see ``merge``), then
    ``overrides`` ({"dotted.key": value}, e.g. from CLI flags) merged over that; validated.
    The main job's augmentation is not inherited: left out, augmentation follows the data
    (see gradkit.config.data_fit)."""
    data = Config().model_dump(mode="json")
    del data["augmentation"]
    if path is not None:
        data = merge(data, read_yaml(path))
    layer = {}
    for key, value in (overrides or {}).items():
        set_key(layer, key, value)
    return make_config(merge(data, layer), path)


def config_yaml(config):
    """The resolved config (every default spelled out) as YAML text."""
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=None)


def save_config(config, path):
    """Write ``config_yaml(config)`` to ``path`` atomically (a temporary file in the same
    folder, flushed to disk, renamed over ``path``), so a crash or a full disk leaves the old
    file or the new one, never a torn one; a file that already holds this text is left
    untouched. Returns the path."""
    path = Path(path)
    text = config_yaml(config)
    try:
        if path.read_text() == text:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
