"""The ``REPORTQA_*`` variables, read one by one so that a wrong one says what is wrong.

pydantic-settings alone answers ``REPORTQA_STORE=/path`` (a group given one value) with a
traceback that names no variable. Here every variable is checked on its own first: a group
given a plain value, a misspelt name ("REPORTQA_STORE_PATH"), a value of the wrong type or
out of range, each becomes one line naming the variable, what was wrong and the right form.
The same table of variables makes the settings part of ``reportqa --help``.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import shlex
import textwrap
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from rag.config import Settings
from rag.errors import SettingsError

log = logging.getLogger(__name__)

PREFIX = "REPORTQA_"
DELIMITER = "__"
# Variables the project reads outside the settings object: not settings, not typos.
OTHER_VARIABLES = {
    "REPORTQA_FAST_E5_CACHE": "Folder of the fast e5 runtime's weights and kernels "
    "(default ~/.cache/reportqa/fast_e5)",
}


@dataclass(frozen=True)
class Variable:
    """One setting as an environment variable: ``REPORTQA_STORE__PATH``."""

    env: str
    group: str | None  # "store", or None for a top-level field
    name: str  # the field: "path"
    field: FieldInfo
    model: type[BaseModel]  # the model that holds the field

    @property
    def example(self) -> str:
        """A right value for it, as it is written in a shell."""
        value: Any = self.field.default
        if self.field.examples:
            value = self.field.examples[0]
        elif self.field.default_factory is not None:
            value = self.field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, (list, dict)):
            return shlex.quote(json.dumps(value))
        choices = _choices(self.field.annotation)
        if value is None and choices:
            value = choices[0]
        return shlex.quote(str(value)) if value is not None else "VALUE"


def _choices(annotation: Any) -> tuple[str, ...]:
    if get_origin(annotation) is Literal:
        return tuple(str(a) for a in get_args(annotation))
    return ()


def _is_group(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_json(annotation: Any) -> bool:
    """Values pydantic-settings decodes as JSON: lists, dicts, models (not in a union)."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return any(_is_json(a) for a in get_args(annotation) if a is not type(None))
    return origin in (list, dict, set, tuple) or _is_group(annotation)


def variables() -> Iterator[Variable]:
    """Every setting, in the order of ``rag.config``."""
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if _is_group(annotation):
            assert isinstance(annotation, type)
            for sub, sub_field in annotation.model_fields.items():
                yield Variable(f"{PREFIX}{name.upper()}{DELIMITER}{sub.upper()}", name, sub,
                               sub_field, annotation)
        else:
            yield Variable(f"{PREFIX}{name.upper()}", None, name, field, Settings)


def _groups() -> dict[str, list[Variable]]:
    out: dict[str, list[Variable]] = {}
    for v in variables():
        if v.group:
            out.setdefault(f"{PREFIX}{v.group.upper()}", []).append(v)
    return out


def _reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return str(err["msg"]).removeprefix("Value error, ")


def _check_value(var: Variable, raw: str) -> str | None:
    """What is wrong with ``raw`` as the value of ``var``, or None."""
    value: Any = raw
    if _is_json(var.field.annotation):
        try:
            value = json.loads(raw)
        except ValueError:
            return (f"{var.env}={shlex.quote(raw)} is not JSON; the right form: "
                    f"{var.env}={var.example}")
    try:
        if var.model is Settings:
            Settings.model_validate({var.name: value})
        else:
            var.model.model_validate({var.name: value})
    except ValidationError as exc:
        return (f"{var.env}={shlex.quote(raw)}: {_reason(exc)}; the right form: "
                f"{var.env}={var.example} ({var.field.description})")
    return None


def _check_group(env: str, fields: list[Variable], raw: str) -> list[str]:
    """A group takes a JSON object of its fields; anything else is a field's value misplaced."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if isinstance(value, dict):
        out = []
        by_name = {v.name: v for v in fields}
        for key, item in value.items():
            var = by_name.get(str(key).lower())
            if var is None:
                out.append(f"{env}: {key!r} is not one of its settings "
                           f"({', '.join(v.name for v in fields)})")
            elif problem := _check_value(var, item if isinstance(item, str)
                                         else json.dumps(item)):
                out.append(problem)
        return out
    first = fields[0]
    others = ", ".join(v.env for v in fields[1:])
    return [f"{env}={shlex.quote(raw)} sets a group of settings, not one value: "
            f"set {first.env}={shlex.quote(raw)} ({first.field.description}), or another of "
            f"the group: {others}"]


def _suggest(name: str, known: list[str]) -> str | None:
    squashed = {k.replace("_", ""): k for k in known}
    if name.replace("_", "") in squashed:
        return squashed[name.replace("_", "")]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    return close[0] if close else None


def check_environment(environ: Mapping[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Errors and warnings about the ``REPORTQA_*`` variables of ``environ``, one line each.

    A name that is no setting is an error when it is close to one (a typo would otherwise
    be ignored without a word), a warning otherwise.
    """
    environ = os.environ if environ is None else environ
    leaves = {v.env: v for v in variables()}
    groups = _groups()
    known = [*leaves, *groups]
    errors: list[str] = []
    warnings: list[str] = []
    for raw_name, raw in sorted(environ.items()):
        env = raw_name.upper()  # pydantic-settings reads names case-insensitively
        if not env.startswith(PREFIX) or env in OTHER_VARIABLES:
            continue
        if env in leaves:
            if problem := _check_value(leaves[env], raw):
                errors.append(problem)
        elif env in groups:
            errors += _check_group(env, groups[env], raw)
        elif hint := _suggest(env, known):
            errors.append(f"{raw_name} is not a setting: did you mean {hint}? (a group and "
                          f"its field are joined by two underscores: {PREFIX}STORE{DELIMITER}PATH)")
        else:
            warnings.append(f"{raw_name} is not a setting and is ignored")
    return errors, warnings


def build_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """``Settings()`` from the environment, or a :class:`SettingsError` naming what is wrong."""
    errors, warnings = check_environment(environ)
    for w in warnings:
        log.warning("%s (`reportqa --help` lists the settings)", w)
    if errors:
        raise SettingsError("\n".join(errors))
    try:
        return Settings()
    except ValidationError as exc:  # what the checks above did not foresee, still by name
        lines = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            env = PREFIX + DELIMITER.join(p.upper() for p in loc[:2])
            lines.append(f"{env}: {str(err['msg']).removeprefix('Value error, ')}")
        raise SettingsError("\n".join(lines)) from None
    except Exception as exc:  # pydantic-settings' own errors (SettingsError) name no variable
        raise SettingsError(f"cannot read the {PREFIX}* variables: {exc}") from None


def settings_help(width: int = 100) -> str:
    """The settings as ``reportqa --help`` shows them: variable, description, default."""
    lines = [f"settings (environment variables; a group and its field are joined by "
             f"'{DELIMITER}', e.g. {PREFIX}STORE{DELIMITER}PATH):"]
    group = object()
    for v in variables():
        if v.group != group:
            group = v.group
            title = Settings.model_fields[v.group].description if v.group else "Ingestion"
            lines.append(f" {title or v.group}:")
        default = v.field.default
        if v.field.default_factory is not None:
            default = v.field.default_factory()  # type: ignore[call-arg]
        about = v.field.description or ""
        if choices := _choices(v.field.annotation):
            about += f" (one of {', '.join(choices)})"
        if default not in (None, [], {}):
            about += f" [default: {default}]"
        lines += textwrap.wrap(about, width, initial_indent=f"  {v.env:<34}",
                               subsequent_indent=" " * 36)
    lines.append(" other variables:")
    for env, about in OTHER_VARIABLES.items():
        lines += textwrap.wrap(about, width, initial_indent=f"  {env:<34}",
                               subsequent_indent=" " * 36)
    return "\n".join(lines)
