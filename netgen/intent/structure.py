"""Check each file's structure with cerberus and say what is wrong in a person's words."""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any, Iterator

from cerberus import errors as E

from ..diagnostics import Diagnostic, Location, Severity
from .load import Document
from .yamltree import SECRET_KEY_RE
from .precheck import precheck
from .schema import FILE_SCHEMA, SECRET_REF_RE, apply_defaults, make_validator
from .tree import Map, Seq, locate

# The advice at the end of a check_with message ("...: did you mean X?", "...: use ...").
_ADVICE_RE = re.compile(r"(.*): ((?:did you mean|use|write) .*)\Z", re.S)
_TYPE_WORDS = {"string": "text", "integer": "a whole number", "dict": "a mapping (key: value)",
               "list": "a list", "boolean": "true or false", "number": "a number"}


def _what(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _leaves(errs) -> Iterator[E.ValidationError]:
    for e in errs:
        if e.is_group_error:
            yield from _leaves(e.child_errors)
        else:
            yield e


def _schema_at(path: tuple) -> dict | None:
    """The mapping schema that applies at a document path (for did-you-mean hints)."""
    schema: Any = FILE_SCHEMA
    any_key = None  # the rules every key of a free-form mapping (`valuesrules`) shares
    for step in path:
        if isinstance(step, int):
            continue
        rules, any_key = any_key or (schema.get(step) if isinstance(schema, dict) else None), None
        if rules is None:
            return None
        if rules.get("type") == "list":
            rules = rules.get("schema", {})
        schema = rules.get("schema")
        if schema is None:
            any_key = rules.get("valuesrules")
    return schema if isinstance(schema, dict) else None


def _field(path: tuple) -> str:
    """`devices[2].uplinks[0].peer` — the data path a person can follow."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(top level)"


def _translate(err: E.ValidationError, doc: Document) -> Diagnostic:
    path = tuple(err.document_path)
    key = path[-1] if path else ""
    secret = isinstance(key, str) and bool(SECRET_KEY_RE.search(key))
    shown = "(hidden)" if secret else repr(err.value) if not isinstance(err.value, (dict, list)) else _what(err.value)
    loc = locate(doc.data, path, Location(doc.path, 1, 1))
    code, field, hint = err.code, _field(path), ""
    if code == E.UNKNOWN_FIELD.code:
        parent = locate_parent(doc.data, path)
        if isinstance(parent, Map):
            loc = parent.where(key, of="key")
        known = sorted(_schema_at(path[:-1]) or {})
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = (f"did you mean `{close[0]}`?" if close else f"known keys here: {', '.join(known)}" if known
                else "remove it, or check its indentation")
        return Diagnostic("schema.unknown-key", Severity.ERROR, f"unknown key `{key}` in {_field(path[:-1])}", loc, hint)
    if code == E.REQUIRED_FIELD.code:
        return Diagnostic("schema.required", Severity.ERROR, f"missing required key `{key}` in {_field(path[:-1])}",
                          loc, f"add `{key}:`")
    if code == E.BAD_TYPE.code:
        want = _TYPE_WORDS.get(str(err.constraint), str(err.constraint))
        return Diagnostic("schema.type", Severity.ERROR, f"{field} must be {want}, not {_what(err.value)}", loc,
                          "quote text that looks like a number; write lists as `[a, b]` or `- a` lines")
    if code == E.NOT_NULLABLE.code:
        return Diagnostic("schema.type", Severity.ERROR, f"{field} is empty", loc, "give it a value or remove the key")
    if code in (E.UNALLOWED_VALUE.code, E.UNALLOWED_VALUES.code):
        allowed = ", ".join(str(a) for a in (err.constraint or []))
        return Diagnostic("schema.value", Severity.ERROR, f"{field}: {shown} is not allowed", loc, f"use one of: {allowed}")
    if code in (E.MIN_VALUE.code, E.MAX_VALUE.code):
        bound = "at least" if code == E.MIN_VALUE.code else "at most"
        return Diagnostic("schema.value", Severity.ERROR, f"{field}: {shown} is out of range", loc,
                          f"use a value {bound} {err.constraint}")
    if code == E.EMPTY_NOT_ALLOWED.code or code == E.MIN_LENGTH.code:
        return Diagnostic("schema.value", Severity.ERROR, f"{field} must not be empty", loc, "give at least one value")
    if code == E.REGEX_MISMATCH.code:
        return Diagnostic("schema.value", Severity.ERROR, f"{field}: {shown} is not well-formed", loc,
                          f"it must match {err.constraint}")
    if code == E.EXCLUDES_FIELD.code:
        return Diagnostic("schema.excludes", Severity.ERROR, f"{field} cannot be given together with "
                          f"`{', '.join(err.constraint) if isinstance(err.constraint, list) else err.constraint}`",
                          loc, "keep only one of them")
    # check_with errors carry their own explanation, and often the fix after a colon:
    # "`10.36.1.0/16` has host bits set: did you mean 10.36.0.0/16?" — that part is the hint.
    message = err.info[0] if err.info and isinstance(err.info[0], str) else f"{field} is invalid ({err.rule})"
    advice = _ADVICE_RE.match(message)
    if advice:
        message, hint = advice.group(1), advice.group(2)
    return Diagnostic("schema.value", Severity.ERROR, f"{field}: {message}", loc, hint)


def locate_parent(root: Any, path: tuple) -> Any:
    node = root
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def check_secrets(doc: Document) -> list[Diagnostic]:
    """Clear-text secrets anywhere in a file, including under keys the schema does not know."""
    out: list[Diagnostic] = []
    stack: list[Any] = [doc.data]
    while stack:
        node = stack.pop()
        if isinstance(node, Map):
            for k, v in node.items():
                if isinstance(v, (Map, Seq)):
                    stack.append(v)
                elif SECRET_KEY_RE.search(k) and v is not None and not (isinstance(v, str) and SECRET_REF_RE.match(v)):
                    out.append(Diagnostic(
                        "secret.cleartext", Severity.ERROR, f"`{k}` holds a clear-text secret", node.where(k),
                        "never write secrets in intent: use a reference such as `secret:NAME` (from the secrets "
                        "file) or `env:VAR`, supplied at deploy time — and rotate this one, it is in history now"))
        elif isinstance(node, Seq):
            stack.extend(v for v in node if isinstance(v, (Map, Seq)))
    return out


@lru_cache(maxsize=None)
def _validator():  # building one checks the whole schema: once per process
    return make_validator()


def check_document(doc: Document) -> list[Diagnostic]:
    """Validate one file; fill schema defaults into it (in place) when it is valid. The compiled
    precheck answers for a valid file; anything else gets cerberus and its full explanation."""
    if precheck(doc.data):
        apply_defaults(FILE_SCHEMA, doc.data)
        return []
    validator = _validator()
    out = check_secrets(doc)
    if validator.validate(doc.data, normalize=False):
        apply_defaults(FILE_SCHEMA, doc.data)
    else:
        out.extend(_translate(e, doc) for e in _leaves(validator._errors))
    return out
