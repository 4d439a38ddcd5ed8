"""The code keeps the house rules on untrusted data, checked on its syntax tree:
SQL only with parameters, and no pickle, marshal, shelve, yaml or eval/exec on anything."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("monitor", "firmware_protocol", "ui")
SQL_METHODS = {"execute", "executemany", "executescript"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "yaml", "jsonpickle", "joblib"}
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _functions(tree):
    """Each node's enclosing function (or the module), to resolve local names."""
    owner = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
            for child in ast.walk(node):
                owner.setdefault(child, node) if node is tree else owner.__setitem__(child, node)
    return owner


def _assignments(scope, name: str):
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            yield node.value
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.target.id == name and node.value is not None:
            yield node.value
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name:
            # ``for statement in _SCHEMA.split(";")``: pieces of a constant are constant.
            it = node.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "split" \
                    and isinstance(it.func.value, ast.Name) and it.func.value.id.lstrip("_").isupper():
                yield ast.Constant("")
            else:
                yield it


def _static(expr, scope, allowed: set[str], seen=()) -> bool:
    """True if the SQL text cannot contain data: literals, UPPER_CASE constants, allowed names."""
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, str)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _static(expr.left, scope, allowed, seen) and _static(expr.right, scope, allowed, seen)
    if isinstance(expr, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or (
            isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)
            and _static(v.value, scope, allowed, seen)) for v in expr.values)
    if isinstance(expr, ast.Name):
        if expr.id.isupper() or expr.id in allowed:
            return True
        if expr.id in seen:
            return True
        values = list(_assignments(scope, expr.id))
        return bool(values) and all(_static(v, scope, allowed, (*seen, expr.id)) for v in values)
    if _placeholders(expr):
        return True
    return False  # % formatting, .format(), calls, attributes: could carry data


def _placeholders(expr) -> bool:
    """``",".join("?" for _ in values)``: a list of parameter marks, never data."""
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "join"
            and isinstance(expr.func.value, ast.Constant) and len(expr.args) == 1):
        return False
    arg = expr.args[0]
    if isinstance(arg, ast.GeneratorExp | ast.ListComp):
        return isinstance(arg.elt, ast.Constant) and arg.elt.value == "?"
    if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mult) and isinstance(arg.left, ast.List):
        return all(isinstance(e, ast.Constant) and e.value == "?" for e in arg.left.elts)
    return False


def _vetted_names(tree, owner) -> set[str]:
    """Names that carry SQL text built elsewhere in the module, allowed only after checking that:
    ``_new_id(table)`` interpolates a table name (every caller passes a literal), and the store's
    buffered ``self._op(sql, params)`` statements, run later as ``for sql, params in ...`` (every
    caller passes static SQL)."""
    allowed = set()
    calls = {name: [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                    and n.func.attr == name and n.args] for name in ("_new_id", "_op")}
    if calls["_new_id"] and all(isinstance(c.args[0], ast.Constant) for c in calls["_new_id"]):
        allowed.add("table")
    if calls["_op"] and all(_static(c.args[0], owner.get(c, tree), set()) for c in calls["_op"]):
        allowed.add("sql")
    return allowed


def test_sql_is_only_ever_built_from_literals_and_parameters():
    offenders, checked = [], 0
    for path, tree in _sources():
        owner = _functions(tree)
        allowed = _vetted_names(tree, owner)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in SQL_METHODS and node.args:
                checked += 1
                if not _static(node.args[0], owner.get(node, tree), allowed):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.args[0])[:80]}")
    assert checked > 20, "the scan found the store's SQL"
    assert not offenders, "SQL built from data:\n" + "\n".join(offenders)


def test_the_sql_checker_catches_data_in_sql():
    bad = ast.parse("def f(con, pid):\n    con.execute(f\"SELECT * FROM t WHERE p = '{pid}'\")\n"
                    "    con.execute('SELECT %s' % pid)\n    q = 'SELECT ' + pid\n    con.execute(q)\n")
    owner = _functions(bad)
    calls = [n for n in ast.walk(bad) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "execute"]
    assert [_static(c.args[0], owner[c], set()) for c in calls] == [False, False, False]


def test_no_pickle_marshal_yaml_or_eval_anywhere():
    offenders = []
    for path, tree in _sources():
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                offenders += [f"{where}:{node.lineno} import {a.name}" for a in node.names
                              if a.name.split(".")[0] in FORBIDDEN_MODULES]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                offenders.append(f"{where}:{node.lineno} from {node.module} import")
            elif isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_BUILTINS:
                    offenders.append(f"{where}:{node.lineno} {node.func.id}()")
                for kw in node.keywords:  # numpy.load(..., allow_pickle=True) and friends
                    if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        offenders.append(f"{where}:{node.lineno} allow_pickle")
    assert not offenders, offenders
