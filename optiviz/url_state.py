"""The whole scene in the URL's query parameters, readable where possible, and never trusted.

    scene_to_params(scene) -> {"surface": "rosenbrock", "start": "-1.5~2.0", "steps": "500",
                               "o1": "sgd~lr~0.001", "o2": "momentum~lr~0.001~momentum~0.9", ...}
    params_to_scene(params) -> (scene, warnings)

Readable form (what scene_to_params gives for ordinary scenes). Every value uses only letters,
digits and `_ . - ~`, the characters Python's and Streamlit's URL encoding leave as they are, so a
link stays readable after copy and paste; `~` separates the parts of a value:

    surface=himmelblau                 the surface; parameters that differ from their defaults
    surface=elongated_quadratic~condition_number~100.0~angle~45.0       follow as name~value pairs
    surface=custom~xmin~-3.0~xmax~3.0  a typed surface: its window as name~value pairs, and
    formula=sin(x)*cos(y)              its formula as typed (the one value the URL escapes)
    start=-1.5~2.0      steps=500      noise=0.5      seed=3      tol=1e-06      lr=0.01 (shared lr)
    schedule=cosine                    a schedule by name (the scene-wide one)
    schedule=name~step~step_size~100~gamma~0.5                            or as name~value pairs
    o1=adam~lr~0.05~beta1~0.5          optimizer 1: its name, then name~value pairs; a trailing
    o2=sgd~lr~0.1~schedule~cosine      `schedule~...` gives its own schedule, written as above
    ...  o10=...

Values: numbers exactly as Python's repr writes them (so every float comes back bit for bit, "1"
is an int and "1.0" a float), true/false, null, or a name. Omitted keys take their defaults,
except where a link names a surface other than the default scene's: like the app's Surface box,
an omitted start is that surface's demo start and every optimizer without an lr (the default
ones too) gets the rate chosen for it there (optiviz.surface_defaults), so ?surface=NAME alone
moves without diverging. What a link says is always read as it is written.
A formula is text: it reaches landscapes.formula's allowlist check (via normalize_scene) and
nothing else; one that is refused is named in a warning and the link's surface is not used.

Compact form: `s=` holds the scene's JSON, zlib-compressed, in URL-safe base64 without padding.
scene_to_params falls back to it when the readable form would be long (> READABLE_MAX_CHARS) or
cannot say something exactly. Readable keys given next to `s` override its parts.

Reading is defensive: nothing in the parameters can make params_to_scene raise. Each part that is
malformed or invalid falls back to its default (a bad hyperparameter is dropped, an unknown
optimizer skipped, an invalid start replaced by the surface's own...) with one warning naming
what was ignored and why (in English, from the catalog's "msg." keys; the app shows it in the
page's language with optiviz.messages.localize); if nothing usable is left, the default scene
comes back. Input over scene.MAX_SCENE_BYTES is refused before it is decoded, decompression is
capped at that size, and JSON deeper than a scene can be is refused. Nothing is ever eval'd or
unpickled. Keys this module does not own (see OWN_KEYS) are left alone: the app may keep its own
state in the URL.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib
from collections.abc import Mapping
from urllib.parse import urlencode

import landscapes
from landscapes.formula import CUSTOM, MAX_LENGTH as MAX_FORMULA_CHARS, WINDOW_PARAMS
from optim_core import OPTIMIZERS
from optiviz import i18n, surface_defaults
from optiviz.scene import (DEFAULT_SCENE, ENTRY_KEYS, MAX_OPTIMIZERS, MAX_SCENE_BYTES, SCENE_KEYS,
                           default_scene, normalize_scene, scene_to_json)

__all__ = ["scene_to_params", "params_to_scene", "scene_to_query", "OWN_KEYS",
           "READABLE_MAX_CHARS"]

READABLE_MAX_CHARS = 1800        # longer readable query strings switch to the compact `s=` form
MAX_TOKEN_CHARS = 40             # one number or name in the readable form
MAX_JSON_DEPTH = 8               # a scene nests 4 deep (scene > optimizers > entry > schedule)
_SEP = "~"

# readable key -> scene key, for the scalar parts
_SCALARS = {"steps": "steps", "noise": "noise", "seed": "seed", "tol": "tolerance",
            "lr": "shared_lr"}
_OPT_KEY = re.compile(r"o(\d{1,3})\Z")
OWN_KEYS = frozenset({"s", "surface", "formula", "start", "schedule", *_SCALARS}
                     | {f"o{i}" for i in range(1, MAX_OPTIMIZERS + 1)})

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT = re.compile(r"-?[0-9]+\Z")
_FLOAT = re.compile(r"-?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_WORDS = {"true": True, "false": False, "null": None}


class _Bad(ValueError):
    """A part of the link that cannot be read; the message says why."""


def _say(key: str, **values) -> str:
    """A warning's text: the catalog's English (the app shows it in the page's language through
    optiviz.messages.localize, which reads these shapes back)."""
    return i18n.t(key, i18n.DEFAULT, **values)


def _show(value, limit: int = 60) -> str:
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:                      # e.g. an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _clip(message: str, limit: int = 240) -> str:
    return message if len(message) <= limit else message[:limit - 3] + "..."


def _same(a, b) -> bool:
    """Equal as JSON: 1 and 1.0, or True and 1, count as different."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _surface_defaults(name: str) -> dict[str, float]:
    """A surface's parameter defaults (a typed surface's: its window's)."""
    params = WINDOW_PARAMS if name == CUSTOM else landscapes.parameters(name)
    return {k: float(p.default) for k, p in params.items()}


def _split_surface(surface: dict) -> tuple[str, str | None, dict]:
    """A normalized surface entry -> (name, its formula or None, parameters differing from
    their defaults): what the readable form writes."""
    surface = dict(surface)
    name = surface.pop("name")
    formula = surface.pop("formula", None) if name == CUSTOM else None
    defaults = _surface_defaults(name)
    changed = {k: v for k, v in surface.items() if not (k in defaults and v == defaults[k]
                                                        and type(v) is float)}
    return name, formula, changed


# ---- writing ---------------------------------------------------------------------------------------

def _token(value) -> str:
    """One scalar as a readable token; _Bad when it has none (the caller falls back to `s=`)."""
    if value is True or value is False or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad("not finite")
        text = repr(value).replace("e+", "e")
    elif isinstance(value, str):
        text = value
        if not _NAME.match(text) or text in _WORDS:
            raise _Bad("not a plain name")
    else:
        raise _Bad(f"no readable form for {type(value).__name__}")
    if len(text) > MAX_TOKEN_CHARS:
        raise _Bad("too long")
    return text


def _pairs(mapping: dict) -> list[str]:
    out = []
    for key, value in mapping.items():
        if not isinstance(key, str) or not _NAME.match(key) or key in ("lr", "schedule", "name"):
            raise _Bad(f"key {key!r} has no readable form")
        out += [key, _token(value)]
    return out


def _schedule_tokens(schedule) -> list[str]:
    if isinstance(schedule, str):
        return [_token(schedule)]
    if isinstance(schedule, dict) and isinstance(schedule.get("name"), str):
        rest = {k: v for k, v in schedule.items() if k != "name"}
        return ["name", _token(schedule["name"])] + _pairs(rest)
    raise _Bad("schedule has no readable form")


def _readable(scene: dict) -> dict[str, str]:
    """The readable parameters of a normalized scene (defaults left out); _Bad if impossible."""
    name, formula, changed = _split_surface(scene["surface"])
    params = {"surface": _SEP.join([_token(name)] + _pairs(changed)),
              "start": _SEP.join(_token(v) for v in scene["start"]),
              "steps": _token(scene["steps"])}
    for key, field in _SCALARS.items():
        if key != "steps" and not _same(scene[field], DEFAULT_SCENE[field]):
            params[key] = _token(scene[field])
    if scene["schedule"] is not None:
        params["schedule"] = _SEP.join(_schedule_tokens(scene["schedule"]))
    for i, entry in enumerate(scene["optimizers"], 1):
        tokens = [_token(entry["optimizer"]), "lr", _token(entry["lr"])]
        tokens += _pairs(entry["hyperparameters"])
        if entry["schedule"] is not None:
            tokens += ["schedule"] + _schedule_tokens(entry["schedule"])
        params[f"o{i}"] = _SEP.join(tokens)
    if formula is not None:
        if not isinstance(formula, str) or len(formula) > MAX_FORMULA_CHARS:
            raise _Bad("formula has no readable form")
        params["formula"] = formula
    return params


def _compact(scene: dict) -> str:
    packed = zlib.compress(scene_to_json(scene).encode("utf-8"), 9)
    return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def scene_to_params(scene) -> dict[str, str]:
    """Query parameters that give back exactly normalize_scene(scene). ValueError if it is invalid.

    Readable keys (see the module docstring) when they say the scene exactly and stay under
    READABLE_MAX_CHARS, else {"s": compact}. Replace the app's scene keys with these (keys in
    OWN_KEYS that are not returned should be removed from the URL).
    """
    scene = normalize_scene(scene)
    try:
        params = _readable(scene)
        exact = _same(_raw_from_readable(params, []), _intent(scene))
    except _Bad:
        params, exact = None, False
    if params is not None and exact and len(urlencode(params)) <= READABLE_MAX_CHARS:
        return params
    return {"s": _compact(scene)}


def scene_to_query(scene) -> str:
    """The query string (without '?') of scene_to_params, as a browser would show it."""
    return urlencode(scene_to_params(scene))


def _intent(scene: dict) -> dict:
    """What the readable form of a normalized scene says: the raw scene it parses back to."""
    out = {}
    name, formula, changed = _split_surface(scene["surface"])
    out["surface"] = {"name": name, **changed}
    if formula is not None:
        out["surface"]["formula"] = formula
    out["start"] = list(scene["start"])
    out["steps"] = scene["steps"]
    for key, field in _SCALARS.items():
        if key != "steps" and not _same(scene[field], DEFAULT_SCENE[field]):
            out[field] = scene[field]
    if scene["schedule"] is not None:
        out["schedule"] = scene["schedule"]
    out["optimizers"] = [{k: v for k, v in e.items() if k != "schedule" or v is not None}
                         for e in scene["optimizers"]]
    for e in out["optimizers"]:
        if not e["hyperparameters"]:
            del e["hyperparameters"]
    return out


# ---- reading: the readable form -> a raw scene ------------------------------------------------------

def _value(token: str):
    """A readable token -> int, float, bool, None or name; _Bad otherwise."""
    token = token.strip().replace(" ", "+")      # a '+' typed by hand arrives as a space
    if len(token) > MAX_TOKEN_CHARS:
        raise _Bad(_say("msg.bad.too_long", token=_show(token, 20), n=len(token)))
    if token in _WORDS:
        return _WORDS[token]
    if _INT.match(token):
        return int(token)
    if _FLOAT.match(token):
        value = float(token)
        if not math.isfinite(value):
            raise _Bad(_say("msg.bad.out_of_range", token=token))
        return value
    if _NAME.match(token):
        return token
    raise _Bad(_say("msg.bad.not_number_or_name", token=repr(_show(token, 30))))


def _number(token: str):
    value = _value(token)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(_say("msg.bad.not_number", token=repr(_show(token, 30))))
    return value


def _name(token: str) -> str:
    value = _value(token)
    if not isinstance(value, str):
        raise _Bad(_say("msg.bad.not_name", token=repr(_show(token, 30))))
    return value


def _pairs_from(tokens: list[str], what: str) -> dict:
    if len(tokens) % 2:
        raise _Bad(_say("msg.bad.pairs", what=what))
    out = {}
    for key, value in zip(tokens[::2], tokens[1::2]):
        key = _name(key)
        if key in out:
            raise _Bad(_say("msg.bad.twice", what=what, param=repr(key)))
        out[key] = _value(value)
    return out


def _schedule_from(tokens: list[str]):
    if len(tokens) == 1:
        return _name(tokens[0])
    if tokens and tokens[0] == "name":
        return _pairs_from(tokens, _say("msg.part.the_schedule"))
    raise _Bad(_say("msg.bad.schedule"))


def _entry_from(text: str) -> dict:
    tokens = text.split(_SEP)
    entry = {"optimizer": _name(tokens[0])}
    rest = tokens[1:]
    if "schedule" in rest[::2]:
        at = rest[::2].index("schedule") * 2
        entry["schedule"] = _schedule_from(rest[at + 1:])
        rest = rest[:at]
    pairs = _pairs_from(rest, _say("msg.part.optimizer", name=repr(entry["optimizer"])))
    if "lr" in pairs:
        entry["lr"] = pairs.pop("lr")
    if pairs:
        entry["hyperparameters"] = pairs
    return entry


def _raw_from_readable(params: Mapping, warnings: list[str]) -> dict:
    """The readable keys -> a raw (unvalidated) scene; unreadable keys are warned about and skipped."""
    raw: dict = {}
    entries: dict[int, dict] = {}
    formula = None
    for key, text in params.items():
        try:
            if key == "formula":
                formula = text          # text, checked by landscapes.formula (normalize_scene)
            elif key == "surface":
                tokens = text.split(_SEP)
                raw["surface"] = {"name": _name(tokens[0]),
                                  **_pairs_from(tokens[1:], _say("msg.part.the_surface"))}
            elif key == "start":
                tokens = text.split(_SEP)
                if len(tokens) != 2:
                    raise _Bad(_say("msg.bad.start"))
                raw["start"] = [_number(tokens[0]), _number(tokens[1])]
            elif key in _SCALARS:
                raw[_SCALARS[key]] = _number(text) if key != "lr" or text != "null" else None
            elif key == "schedule":
                raw["schedule"] = _schedule_from(text.split(_SEP))
            elif _OPT_KEY.match(key):
                index = int(key[1:])
                if not 1 <= index <= MAX_OPTIMIZERS:
                    raise _Bad(_say("msg.bad.max_optimizers", n=MAX_OPTIMIZERS))
                entries[index] = _entry_from(text)
        except _Bad as err:
            warnings.append(_say("msg.link.part", param=key, value=_show(text, 40),
                                 reason=str(err)))
    if entries:
        raw["optimizers"] = [entries[i] for i in sorted(entries)]
    if formula is not None:
        _attach_formula(raw, formula, warnings)
    return raw


def _attach_formula(raw: dict, formula: str, warnings: list[str]) -> None:
    """formula=... goes into the raw scene's surface: a typed one (custom), made if absent."""
    surface = raw.get("surface", {"name": CUSTOM})
    if isinstance(surface, str):
        surface = {"name": surface}
    if isinstance(surface, dict) and surface.get("name") == CUSTOM:
        raw["surface"] = {**surface, "formula": formula}
    else:
        name = surface.get("name") if isinstance(surface, dict) else surface
        warnings.append(_say("msg.link.formula_not_custom", formula=_show(formula, 40),
                             name=repr(_show(name, 40))))


# ---- reading: the compact form -> a raw scene -------------------------------------------------------

def _depth(value) -> int:
    """Nesting depth of decoded JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _raw_from_compact(text: str) -> dict:
    """`s=` -> the raw scene it holds; _Bad saying what is wrong with it."""
    text = text.strip()
    if len(text) > MAX_SCENE_BYTES:
        raise _Bad(_say("msg.bad.compact_long", n=len(text), max=MAX_SCENE_BYTES))
    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise _Bad(_say("msg.bad.compact_alphabet"))
    text = text.rstrip("=")
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _Bad(_say("msg.bad.compact_base64")) from None
    inflate = zlib.decompressobj()
    try:
        data = inflate.decompress(packed, MAX_SCENE_BYTES + 1)
    except zlib.error:
        raise _Bad(_say("msg.bad.compact_zlib")) from None
    if len(data) > MAX_SCENE_BYTES or inflate.unconsumed_tail:
        raise _Bad(_say("msg.bad.compact_bomb", n=MAX_SCENE_BYTES))
    if not inflate.eof:
        raise _Bad(_say("msg.bad.compact_cut"))
    try:
        scene = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise _Bad(_say("msg.bad.compact_json", error=_clip(str(err), 80))) from None
    if not isinstance(scene, dict):
        raise _Bad(_say("msg.bad.compact_type", type=type(scene).__name__))
    if _depth(scene) > MAX_JSON_DEPTH:
        raise _Bad(_say("msg.bad.compact_deep"))
    return scene


# ---- validation, part by part -------------------------------------------------------------------------

_MISSING = object()


def _check(scene: dict) -> tuple[dict | None, str]:
    """normalize_scene, turning every failure into a message (never raises)."""
    try:
        return normalize_scene(scene), ""
    except ValueError as err:
        return None, _clip(str(err))
    except Exception as err:               # hostile shapes can trip other errors; never leak them
        return None, _clip(f"{type(err).__name__}: {err}")


def _salvage_entry(i: int, entry, base: dict, warnings: list[str]) -> dict | None:
    """One optimizer entry with every unusable part dropped (a warning each); None if unusable."""
    where = _say("msg.part.optimizer", name=i + 1)
    if isinstance(entry, str):
        entry = {"optimizer": entry}
    if not isinstance(entry, dict):
        warnings.append(_say("msg.link.entry_type", where=where, type=type(entry).__name__))
        return None
    name = entry.get("optimizer")
    if not isinstance(name, str) or name not in OPTIMIZERS:
        warnings.append(_say("msg.link.entry_unknown", where=where, name=repr(_show(name, 40)),
                             valid=", ".join(OPTIMIZERS)))
        return None
    where = _say("msg.part.optimizer", name=f"{i + 1} ({name})")
    unknown = [k for k in entry if k not in ENTRY_KEYS and k != "label"]
    if unknown:
        warnings.append(_say("msg.link.entry_key", param=repr(_show(unknown[0], 30)), where=where,
                             valid=", ".join(ENTRY_KEYS)))

    def works(candidate):
        problem = _check({**base, "optimizers": [candidate]})[1]
        prefix = f"optimizers[0] ({name}): "
        return problem[len(prefix):] if problem.startswith(prefix) else problem

    good = {"optimizer": name}
    if "lr" in entry:
        problem = (works({**good, "lr": entry["lr"]}) if _scalar(entry["lr"])
                   else _say("msg.bad.not_a_number"))
        if problem:
            warnings.append(_say("msg.link.entry_lr", where=where, problem=problem))
            lr = _surface_lr(base["surface"], name)          # its demo lr on this surface
            if lr is not None:
                good["lr"] = lr
        else:
            good["lr"] = entry["lr"]
    hyper = entry.get("hyperparameters")
    if hyper is not None and not isinstance(hyper, dict):
        warnings.append(_say("msg.link.entry_hyper_type", where=where))
    elif hyper:
        kept = {}
        for key, value in hyper.items():
            problem = (works({**good, "hyperparameters": {key: value}}) if _scalar(value)
                       else _say("msg.bad.one_value"))
            if problem:
                warnings.append(_say("msg.link.entry_hyper", param=_show(key, 30),
                                     value=_show(value, 30), where=where, problem=problem))
            else:
                kept[key] = value
        if kept and works({**good, "hyperparameters": kept}):
            warnings.append(_say("msg.link.entry_hyper_together", where=where))
        elif kept:
            good["hyperparameters"] = kept
    if entry.get("schedule") is not None:
        problem = works({**good, "schedule": entry["schedule"]})
        if problem:
            warnings.append(_say("msg.link.entry_schedule", where=where, problem=problem))
        else:
            good["schedule"] = entry["schedule"]
    return good


def _scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _plain_entries(raw: dict) -> bool:
    """Every optimizer setting is a single value (normalize_scene lets per-trajectory lists through)."""
    entries = raw.get("optimizers")
    if not isinstance(entries, list):
        return True
    for entry in entries:
        if isinstance(entry, dict):
            hyper = entry.get("hyperparameters")
            if not _scalar(entry.get("lr")) or (
                    isinstance(hyper, dict) and not all(_scalar(v) for v in hyper.values())):
                return False
    return True


def _salvage(raw: dict, warnings: list[str]) -> dict:
    """A valid normalized scene from a raw one, part by part; warnings name what was dropped."""
    if _plain_entries(raw):
        whole, _ = _check(raw)
        if whole is not None:
            return whole
    unknown = [k for k in raw if k not in SCENE_KEYS]
    if unknown:
        warnings.append(_say("msg.link.not_setting", param=repr(_show(unknown[0], 30))))
    if raw.get("version", 1) != DEFAULT_SCENE["version"]:
        warnings.append(_say("msg.link.version", version=_show(raw.get("version"), 20)))
    base = default_scene()
    surface = raw.get("surface", _MISSING)
    if surface is not _MISSING:
        probe = {k: v for k, v in base.items() if k != "start"}   # start: the surface's own
        fixed, problem = _check({**probe, "surface": surface})
        if fixed is None and isinstance(surface, dict) and isinstance(surface.get("name"), str):
            plain = {"name": surface["name"]}
            if surface["name"] == CUSTOM and "formula" in surface:    # the formula, no window
                plain["formula"] = surface["formula"]
            fixed, _ = _check({**probe, "surface": plain})
            if fixed is not None:
                warnings.append(_say("msg.link.surface_params", problem=problem,
                                     name=repr(surface["name"])))
        if fixed is None:
            typed = (isinstance(surface, dict) and surface.get("name") == CUSTOM
                     and isinstance(surface.get("formula"), str))
            fallback = repr(base["surface"]["name"])
            warnings.append(_say("msg.link.formula", formula=_show(surface["formula"], 60),
                                 problem=problem, name=fallback) if typed else
                            _say("msg.link.surface", problem=problem, name=fallback))
        else:
            base = fixed
    for field in ("start", "steps", "noise", "seed", "tolerance", "shared_lr", "schedule"):
        value = raw.get(field, _MISSING)
        if value is _MISSING:
            continue
        fixed, problem = _check({**base, field: value})
        if fixed is None:
            warnings.append(
                _say("msg.link.field_none", field=field, value=_show(value, 40), problem=problem)
                if base[field] is None else
                _say("msg.link.field", field=field, value=_show(value, 40), problem=problem,
                     shown=_show(base[field], 40)))
        else:
            base = fixed
    entries = raw.get("optimizers", _MISSING)
    if entries is _MISSING:
        return base
    if not isinstance(entries, list) or not entries:
        warnings.append(_say("msg.link.optimizers_not_list"))
        return base
    if len(entries) > MAX_OPTIMIZERS:
        warnings.append(_say("msg.link.optimizers_cut", first=MAX_OPTIMIZERS + 1,
                             last=len(entries), n=MAX_OPTIMIZERS))
        entries = entries[:MAX_OPTIMIZERS]
    salvaged = [_salvage_entry(i, entry, base, warnings) for i, entry in enumerate(entries)]
    kept = [entry for entry in salvaged if entry is not None]
    if not kept:
        warnings.append(_say("msg.link.no_optimizer"))
        return base
    fixed, problem = _check({**base, "optimizers": kept})
    if fixed is None:
        warnings.append(_say("msg.link.optimizers", problem=problem))
        return base
    return fixed


def params_to_scene(params) -> tuple[dict, list[str]]:
    """Query parameters (st.query_params or any str -> str mapping) -> (normalized scene, warnings).

    Never raises. Empty (or only keys this module does not own) gives the default scene and no
    warning; every part that cannot be used is replaced by its default and named in a warning.
    """
    warnings: list[str] = []
    try:
        scene = _params_to_scene(params, warnings)
    except Exception as err:                        # last line of defence: never fail the app
        warnings.append(_clip(_say("msg.link.unreadable", error=f"{type(err).__name__}: {err}")))
        scene = default_scene()
    return scene, warnings


def _params_to_scene(params, warnings: list[str]) -> dict:
    if params is None:
        return default_scene()
    if not isinstance(params, Mapping) and not hasattr(params, "items"):
        warnings.append(_say("msg.link.not_pairs", type=type(params).__name__))
        return default_scene()
    own: dict[str, str] = {}
    extra: list[str] = []
    size = 0
    for key, value in params.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, (list, tuple)):        # parse_qs style: the last value wins
            value = value[-1] if value else ""
        if not isinstance(value, str):
            if key in OWN_KEYS:
                warnings.append(_say("msg.link.not_text", param=key, type=type(value).__name__))
            continue
        if key in OWN_KEYS:
            size += len(key) + len(value)
            if size > MAX_SCENE_BYTES:
                warnings.append(_say("msg.link.too_long", n=MAX_SCENE_BYTES))
                return default_scene()
            if value.strip():
                own[key] = value
        elif _OPT_KEY.match(key):
            extra.append(key)
    if extra:                                       # one line for all of them, however many
        shown = ", ".join(extra[:3])
        if len(extra) > 3:
            shown = _say("msg.part.and_more", keys=shown, n=len(extra) - 3)
        warnings.append(_say("msg.link.too_many_keys", keys=shown, n=MAX_OPTIMIZERS))
    if not own:
        return default_scene()
    raw: dict = {}
    if "s" in own:
        try:
            raw = _raw_from_compact(own.pop("s"))
        except _Bad as err:
            warnings.append(_say("msg.link.compact", reason=str(err)))
            raw = {}
    formula = own.pop("formula", None)       # goes into the surface, the compact one's too
    readable = _raw_from_readable(own, warnings)
    raw.update(readable)
    if formula is not None:
        _attach_formula(raw, formula, warnings)
    if not raw:
        if warnings:
            warnings.append(_say("msg.link.nothing_used"))
        return default_scene()
    surface_rates(raw)
    return _salvage(raw, warnings)


def _surface_lr(surface, optimizer) -> float | None:
    """The rate the Surface box would give `optimizer` on `surface` (a name or a surface entry):
    optiviz.surface_defaults' table, for any surface but the default scene's (whose rates are
    the default scene's own); None when there is none (the entry keeps its demo lr)."""
    name = surface.get("name") if isinstance(surface, dict) else surface
    if not isinstance(name, str) or name == DEFAULT_SCENE["surface"]["name"] \
            or not isinstance(optimizer, str):
        return None
    return surface_defaults.lr_for(name, optimizer)


def surface_rates(raw: dict) -> None:
    """A link (or the CLI's --surface) that names a surface (other than the default scene's) follows the app's rule for
    a changed surface wherever it is silent: every optimizer it gives no lr for (the default
    ones, when it lists none) gets the rate chosen for that surface (optiviz.surface_defaults),
    so a hand-made ?surface=goldstein_price moves without diverging; a start it leaves out is
    that surface's demo start already (normalize_scene). What the link says is kept as it reads."""
    surface = raw.get("surface")
    if _surface_lr(surface, "sgd") is None:
        return
    entries = raw.get("optimizers", _MISSING)
    if entries is _MISSING:
        entries = [{k: v for k, v in entry.items() if k != "lr"}
                   for entry in default_scene()["optimizers"]]
    elif not isinstance(entries, list):
        return
    filled = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"optimizer": entry}
        if isinstance(entry, dict) and "lr" not in entry:
            lr = _surface_lr(surface, entry.get("optimizer"))
            if lr is not None:
                entry = {**entry, "lr": lr}
        filled.append(entry)
    raw["optimizers"] = filled


# ---- what is on screen besides the scene: the view, the step, the lesson ---------------------------

VIEW_KEYS = ("view", "step", "lesson", "why", "present", "lessons", "lang")
LANGS = ("en", "ko")             # lang=ko|en: the page's language (optiviz.i18n)
MAX_LESSONS_TEXT = 2000          # characters of a lessons=key1,key2,... list
VIEWS = ("race", "side", "3d", "curves", "maps")


def view_to_params(view: str | None, step: int | None, steps: int, lesson: str | None,
                   why: int | None = None, present: bool = False, lessons=(),
                   lang: str | None = None) -> dict:
    """The URL keys of what is on screen: left out when they are the defaults (the race view,
    at the end, no lesson, no "why it moves" panel, not presenting, no lesson list). why: the
    explained run's index (the URL counts runs from 1); present: the presenter's page (no
    sidebar, no controls but the timeline); lessons: the presets n/p walk, in order."""
    params = {}
    if view and view != "race":
        params["view"] = view
    if step is not None and 0 <= int(step) < steps:
        params["step"] = str(int(step))
    if lesson:
        params["lesson"] = lesson
    if why is not None and int(why) >= 0:
        params["why"] = str(int(why) + 1)
    if present:
        params["present"] = "1"
    if lessons:
        params["lessons"] = ",".join(lessons)
    if lang in LANGS:                     # the page's language travels with the link
        params["lang"] = lang
    return params


def params_to_view(params, steps: int, lessons, runs: int = 0) -> tuple[dict, list[str]]:
    """{"view", "step", "lesson", "why", "present", "lessons"} read from the URL (defaults where
    absent), and warnings for what could not be used ("why" is a run's number, 1 to `runs`,
    read as its 0-based index; "present" is 1 or 0; "lessons" a comma-separated list of preset
    keys, each once, in order; "lang" ko or en, None when absent). Never raises."""
    out = {"view": "race", "step": None, "lesson": None, "why": None, "present": False,
           "lessons": [], "lang": None}
    warnings: list[str] = []
    try:
        items = dict(params.items()) if params is not None else {}
    except Exception:                               # noqa: BLE001 - a hostile mapping
        return out, warnings
    for key in VIEW_KEYS:
        value = items.get(key)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else None
        if value is None:
            continue
        if not isinstance(value, str):
            warnings.append(_say("msg.view.not_text", param=key))
            continue
        value = value.strip()
        if key == "view":
            if value in VIEWS:
                out["view"] = value
            else:
                warnings.append(_say("msg.view.view", value=_show(value, 30),
                                     views=", ".join(VIEWS)))
        elif key == "step":
            if _INT.match(value) and len(value) <= 7 and 0 <= int(value) <= steps:
                out["step"] = int(value)
            else:
                warnings.append(_say("msg.view.step", value=_show(value, 30), steps=steps))
        elif key == "lesson":
            if value in lessons:
                out["lesson"] = value
            else:
                warnings.append(_say("msg.view.lesson", value=_show(value, 30)))
        elif key == "why":
            if _INT.match(value) and len(value) <= 3 and 1 <= int(value) <= runs:
                out["why"] = int(value) - 1
            else:
                warnings.append(_say("msg.view.why", value=_show(value, 30), runs=runs))
        elif key == "lang":
            if value.lower() in LANGS:
                out["lang"] = value.lower()
            else:
                warnings.append(_say("lang.ignored", value=_show(value, 30)))
        elif key == "present":
            if value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
                out["present"] = value.lower() in ("1", "true", "yes", "on")
            else:
                warnings.append(_say("msg.view.present", value=_show(value, 30)))
        elif key == "lessons":
            out["lessons"], bad = _lesson_list(value, lessons)
            if bad:
                warnings.append(_say("msg.view.lessons", value=_show(bad, 60)))
    return out, warnings


def _lesson_list(value: str, lessons) -> tuple[list[str], str]:
    """The known preset keys of a lessons=key1,key2,... list, each once and in order, and the
    rest (what could not be used) as one piece of text ("" when all of it was used)."""
    if len(value) > MAX_LESSONS_TEXT:
        return [], value
    known, bad = [], []
    for item in value.split(","):
        item = item.strip()
        if item in lessons:
            if item not in known:
                known.append(item)
        elif item:
            bad.append(item)
    return known, ", ".join(bad)
