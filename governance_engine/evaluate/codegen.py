"""The snapshot evaluator's compiler: each rule of a pack turned into one Python function,
generated as source text from the checked syntax tree and compiled once per Engine.

A rule's function loops over its subjects with the whole rule inlined: attribute reads,
comparisons with a fast path when both sides are known numbers, texts or dates (anything
else goes through `values`, the semantics every evaluator shares), short-circuit Kleene
and/or, graph functions as loops over the index's adjacency, and lets as local variables
computed when first read. The results are those of the reference interpreter.

No rule text ever becomes code. Literals are written with `repr` (dates as `_date(y, m, d)`,
containers element by element; any other value is bound in the namespace as data), and every
generated name is positional (`t3`, `l0`, `n1`), never taken from a rule. The namespace holds
only the helpers below and a few builtins.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from datetime import date
from itertools import count
from typing import Any

from ..language import ast
from ..language.packs import Pack
from ..language.rules import Rule
from . import values as v
from .common import Finding
from .reference import evaluate_expr

UNKNOWN = v.UNKNOWN

# A rule's function: (subjects, index, as_of, derived facts by subject, roll-up, findings out).
RuleFunction = Callable[[list, Any, date, dict, Any, list], None]
# A rule's lets: (subject, index, as_of, the subject's derived facts, roll-up) -> their values.
LetsFunction = Callable[[Any, Any, date, dict, Any], tuple]

# Expressions that read neither the state nor the date: settled once, at compile time.
_CONSTANT_KINDS = (
    ast.Literal,
    ast.ListExpr,
    ast.Arith,
    ast.Neg,
    ast.Compare,
    ast.IsNull,
    ast.Index,
    ast.Not,
    ast.And,
    ast.Or,
)


class _NotAsked:
    """A let not computed yet for the current subject."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_ASKED"


def _difference(a: Any, b: Any) -> Any:
    """difference(a, b): the elements of a that equal none of b. Between texts only, a set
    lookup; otherwise values.call's pairwise three-valued equality."""
    if type(a) is list and type(b) is list and all(type(x) is str for x in a) and all(type(y) is str for y in b):
        removed = set(b)
        return [x for x in a if x not in removed]
    return v.call("difference", [a, b], date.min)


_HELPERS: dict[str, Any] = {
    "_U": UNKNOWN,
    "_NA": _NotAsked(),
    "_Finding": Finding,
    "_Step": ast.Step,
    "_date": date,
    "_isfinite": math.isfinite,
    "_compare": v.compare,
    "_arith": v.arith,
    "_negate": v.negate,
    "_index": v.index,
    "_call": v.call,
    "_fold": v.fold,
    "_difference": _difference,
    "_NO_FACTS": {},  # read only: rules that read derived facts of a subject that has none
}
_BUILTINS = {
    "OverflowError": OverflowError,
    "len": len,
    "type": type,
    "int": int,
    "float": float,
    "str": str,
    "list": list,
    "set": set,
    "sorted": sorted,
    "frozenset": frozenset,
}


def _constant(expr: ast.Expr) -> bool:
    return all(isinstance(e, _CONSTANT_KINDS) for e in ast.walk(expr))


def _number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _is_number(name: str) -> str:
    return f"(type({name}) is int or type({name}) is float)"


def _fast_check(value: Any, name: str) -> str | None:
    """The test that `name` holds a value of the constant's kind, for which Python's own
    comparison means what values.compare means; None when there is no such kind."""
    if type(value) is str:
        return f"type({name}) is str"
    if _number(value):
        return _is_number(name)
    if type(value) is date:
        return f"type({name}) is _date"
    return None


class _Module:
    """The generated module: its source lines, and the data and rules it is bound to."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.body: list[str] = []
        self.bound: dict[str, Any] = {}
        self._constants: dict[str, str] = {}

    def bind(self, prefix: str, value: Any) -> str:
        """A name for a value the code reads as data (a Rule, a value with no source form)."""
        name = f"{prefix}{len(self.bound)}"
        self.bound[name] = value
        return name

    def constant(self, source: str) -> str:
        """A module-level name for a constant's source, written once however often used."""
        if source not in self._constants:
            self._constants[source] = name = f"_k{len(self._constants)}"
            self.head.append(f"{name} = {source}")
        return self._constants[source]

    def literal(self, value: Any) -> str:
        """An expression for a literal value: `repr` for scalars, a module constant for the rest."""
        if value is UNKNOWN:
            return "_U"
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        if type(value) is float:
            return repr(value) if math.isfinite(value) else f"float({repr(value)!r})"
        return self.constant(self._source(value))

    def _source(self, value: Any) -> str:
        if value is None or type(value) in (bool, int, str, float):
            text = self.literal(value)
            return f"({text})" if text.startswith("-") else text
        if type(value) is date:
            return f"_date({value.year!r}, {value.month!r}, {value.day!r})"
        if type(value) is list:
            return "[" + ", ".join(self._source(x) for x in value) + "]"
        if type(value) is dict:
            return "{" + ", ".join(f"{self._source(k)}: {self._source(x)}" for k, x in value.items()) + "}"
        return self.bind("_o", value)

    def frozen(self, items: list[Any]) -> str:
        """A frozenset constant, written in a fixed order (set order depends on the hash seed)."""
        return self.constant("frozenset((" + "".join(self._source(x) + ", " for x in sorted(set(items))) + "))")

    def path(self, path: tuple[ast.Step, ...]) -> str:
        steps = (f"_Step({s.direction!r}, {s.relation!r}, {s.node_type!r}), " for s in path)
        return self.constant("(" + "".join(steps) + ")")

    def source(self) -> str:
        return "\n".join([*self.head, "", *self.body]) + "\n"


class _Place:
    """Where an expression is evaluated: the node's variable, its attributes', the edge's."""

    __slots__ = ("node", "attrs", "edge")

    def __init__(self, node: str, attrs: str, edge: str | None) -> None:
        self.node, self.attrs, self.edge = node, attrs, edge


class _RuleWriter:
    """The function of one rule. Every `value` call writes the statements that compute an
    expression and returns a name (or a constant) holding its value."""

    def __init__(self, module: _Module, position: int, rule: Rule, derived_names: frozenset[str]) -> None:
        self.module, self.rule, self.derived_names = module, rule, derived_names
        self.name = f"_rule{position}"
        self.rule_name = module.bind("_R", rule)
        self.lines: list[str] = []
        self.depth = 0
        self.temps = count()
        self.lets = {name: (f"l{i}", f"let{i}", expr) for i, (name, expr) in enumerate(rule.lets)}
        self.let_functions: dict[str, list[str]] = {}  # the lets read, each written once
        self.uses: set[str] = set()  # what the function reads from the index and the facts

    # --- writing ---------------------------------------------------------------------------

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    @contextlib.contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.line(header)
        self.depth += 1
        size = len(self.lines)
        yield
        if len(self.lines) == size:
            self.line("pass")
        self.depth -= 1

    def temp(self) -> str:
        return f"t{next(self.temps)}"

    def assign(self, text: str) -> str:
        name = self.temp()
        self.line(f"{name} = {text}")
        return name

    def named(self, text: str) -> str:
        """A value as a name, for `is` tests (Python warns on `5 is True`)."""
        return text if text.isidentifier() else self.assign(text)

    # --- expressions -----------------------------------------------------------------------

    def value(self, expr: ast.Expr, at: _Place) -> str:
        folded, constant = self.settled(expr)
        if folded:
            return self.module.literal(constant)
        match expr:
            case ast.Attr(name=name) | ast.SubjectAttr(name=name) if name in self.derived_names:
                self.uses.add("facts")
                return self.assign(f"facts.get({name!r}, _U)")
            case ast.Attr(name=name):
                return self.attribute(at.node, at.attrs, name)
            case ast.SubjectAttr(name=name):
                return self.attribute("subject", "attrs", name)
            case ast.EdgeAttr(name=name):
                return "_U" if at.edge is None else self.attribute(at.edge, f"{at.edge}.attrs", name)
            case ast.LetRef(name=name):
                local, function = self.let(name)
                return self.assign(f"{local} if {local} is not _NA else {function}()")
            case ast.AsOf():
                return "as_of"
            case ast.Not(operand=o):
                inner = self.named(self.value(o, at))
                return self.assign(f"False if {inner} is True else True if {inner} is False else _U")
            case ast.Neg(operand=o):
                inner = self.value(o, at)
                return self.assign(f"-{inner} if {_is_number(inner)} else _negate({inner})")
            case ast.And(items=items):
                return self.junction(items, at, absorbing=False)
            case ast.Or(items=items):
                return self.junction(items, at, absorbing=True)
            case ast.Arith(op=op, left=a, right=b):
                return self.arith(op, a, b, at)
            case ast.Compare(op=op, left=a, right=b):
                return self.compare(op, a, b, at)
            case ast.IsNull(operand=o, negated=negated):
                inner = self.named(self.value(o, at))
                return self.assign(f"{inner} is {'not ' if negated else ''}_U")
            case ast.ListExpr(items=items):
                parts = [self.named(self.value(i, at)) for i in items]
                unknown = " or ".join(f"{p} is _U" for p in parts)
                return self.assign(f"_U if {unknown} else [{', '.join(parts)}]" if parts else "[]")
            case ast.Index(base=b, key=k):
                base, key = self.value(b, at), self.value(k, at)
                if isinstance(b, ast.Literal) and type(b.value) is dict:
                    return self.assign(f"{base}.get({key}, _U) if type({key}) is str else _index({base}, {key})")
                return self.assign(f"_index({base}, {key})")
            case ast.Call(name=name, args=args):
                return self.call(name, args, at)
            case ast.Aggregate(func="blockers", path=path):
                return self.assign(
                    f"_U if rollup is None else len(rollup.below({at.node}.id, {self.module.path(path)}))"
                )
            case ast.Aggregate(func=func, path=path, where=where, value=value):
                return self.aggregate(func, path, where, value, at)
        raise TypeError(f"unknown expression {type(expr).__name__}")

    def let(self, name: str) -> tuple[str, str]:
        """A let's local variable and the nested function that computes it on first read
        (written when first referenced: a let nothing reads costs nothing)."""
        local, function, expr = self.lets[name]
        if name not in self.let_functions:
            self.let_functions[name] = []
            outer = self.lines, self.depth
            self.lines, self.depth = self.let_functions[name], 1
            with self.block(f"def {function}():"):
                self.line(f"nonlocal {local}")
                self.line(f"{local} = {self.value(expr, _Place('subject', 'attrs', None))}")
                self.line(f"return {local}")
            self.lines, self.depth = outer
        return local, function

    @staticmethod
    def settled(expr: ast.Expr) -> tuple[bool, Any]:
        """(True, its value) for an expression that reads neither the state nor the date,
        settled here by the reference interpreter; (False, None) otherwise, or where settling
        it raises (as evaluating it will: overflow)."""
        if not _constant(expr):
            return False, None
        try:
            return True, evaluate_expr(expr, None, None, None)  # type: ignore[arg-type]
        except ArithmeticError:
            return False, None

    def attribute(self, node: str, attrs: str, name: str) -> str:
        if name in ("id", "type"):
            return self.assign(f"{node}.{name}")
        result = self.assign(f"{attrs}.get({name!r})")
        self.line(f"if {result} is None: {result} = _U")
        return result

    def junction(self, items: tuple[ast.Expr, ...], at: _Place, absorbing: bool) -> str:
        """Kleene and (absorbing False) / or (absorbing True), stopping at the first absorbing
        operand; written flat, one block per operand however many there are."""
        result = self.assign(repr(not absorbing))
        for position, item in enumerate(items):
            with self.block(f"if {result} is not {absorbing!r}:") if position else contextlib.nullcontext():
                part = self.named(self.value(item, at))
                self.line(f"if {part} is {absorbing!r}: {result} = {absorbing!r}")
                self.line(f"elif {part} is not {not absorbing!r}: {result} = _U")
        return result

    def arith(self, op: str, a: ast.Expr, b: ast.Expr, at: _Place) -> str:
        left, right = self.value(a, at), self.value(b, at)
        checks = [_is_number(name) for name, expr in ((left, a), (right, b)) if not _number(self.settled(expr)[1])]
        divisor = self.settled(b)[1]
        if op == "/" and not (_number(divisor) and divisor != 0):
            checks.append(f"{right} != 0")
        result = self.temp()
        with self.block(f"if {' and '.join(checks)}:" if checks else "if True:"):
            with self.block("try:"):
                self.line(f"{result} = {left} {op} {right}")
            with self.block("except OverflowError:"):  # an integer beyond the floats
                self.line(f"{result} = _U")
            self.line(f"if type({result}) is float and not _isfinite({result}): {result} = _U")
        if checks:
            with self.block("else:"):
                self.line(f"{result} = _arith({op!r}, {left}, {right})")
        return result

    def compare(self, op: str, a: ast.Expr, b: ast.Expr, at: _Place) -> str:
        if op in ("in", "notin") and isinstance(b, ast.ListExpr) and not self.settled(b)[0]:
            # element by element: a known element that matches settles `in`, whatever the others
            item = self.value(a, at)
            parts = [self.named(self.value(i, at)) for i in b.items]
            return self.assign(f"_compare({op!r}, {item}, [{', '.join(parts)}])")
        left, right = self.value(a, at), self.value(b, at)
        slow = f"_compare({op!r}, {left}, {right})"
        if op in ("in", "notin"):
            _, items = self.settled(b)
            if type(items) is list and items and (all(type(x) is str for x in items) or all(map(_number, items))):
                python = "in" if op == "in" else "not in"
                check = _fast_check(items[0], left)
                return self.assign(f"({left} {python} {self.module.frozen(items)}) if {check} else {slow}")
            return self.assign(slow)
        for side, other in ((b, left), (a, right)):
            known, value = self.settled(side)
            if known:
                check = _fast_check(value, other)
                return self.assign(slow if check is None else f"({left} {op} {right}) if {check} else {slow}")
            if isinstance(side, ast.AsOf):
                self.uses.add("as_of_date")
                return self.assign(f"({left} {op} {right}) if as_of_date and type({other}) is _date else {slow}")
        kinds = self.temp(), self.temp()
        self.line(f"{kinds[0]} = type({left}); {kinds[1]} = type({right})")
        numbers = " and ".join(f"({k} is int or {k} is float)" for k in kinds)
        same = f"({kinds[0]} is {kinds[1]} and ({kinds[0]} is str or {kinds[0]} is _date))"
        return self.assign(f"({left} {op} {right}) if {numbers} or {same} else {slow}")

    def call(self, name: str, args: tuple[ast.Expr, ...], at: _Place) -> str:
        if name == "coalesce":
            result = self.assign(self.value(args[0], at))
            with self.block(f"if {result} is _U:"):
                self.line(f"{result} = {self.value(args[1], at)}")
            return result
        parts = [self.value(arg, at) for arg in args]
        slow = f"_call({name!r}, [{', '.join(parts)}], as_of)"
        if name == "days_since":
            return self.assign(f"(as_of - {parts[0]}).days if type({parts[0]}) is _date else {slow}")
        if name == "days_until":
            return self.assign(f"({parts[0]} - as_of).days if type({parts[0]}) is _date else {slow}")
        if name == "len":
            return self.assign(f"len({parts[0]}) if type({parts[0]}) is list or type({parts[0]}) is str else {slow}")
        if name == "difference":
            return self.assign(f"_difference({parts[0]}, {parts[1]})")
        return self.assign(slow)

    @contextlib.contextmanager
    def edges(self, step: ast.Step, start: str, edge: str) -> Iterator[str]:
        """A loop over the edges of one step from the node id `start`, of the step's node
        type at their other end; yields that end's id."""
        self.uses.update(("nodes", f"{step.direction}_edges"))
        end = f"{edge}.{'target' if step.direction == 'out' else 'source'}"
        with self.block(f"for {edge} in {step.direction}_edges({start}, {step.relation!r}):"):
            if step.node_type is not None:
                self.line(f"if nodes[{end}].type != {step.node_type!r}: continue")
            yield end

    @contextlib.contextmanager
    def loop(self, path: tuple[ast.Step, ...], at: _Place, ordered: bool) -> Iterator[_Place]:
        """A loop over the (node, last edge) pairs a path reaches, as common.walk_path finds
        them (each node once per step, each last edge once), in walk_path's order when a fold
        depends on it; yields the place inside the loop."""
        nesting = next(self.temps)
        node, edge = f"n{nesting}", f"e{nesting}"
        last = path[-1]
        end = "target" if last.direction == "out" else "source"
        self.uses.add("nodes")
        if len(path) == 1:
            self.uses.add(f"{last.direction}_edges")
            header = f"for {edge} in {last.direction}_edges({at.node}.id, {last.relation!r}):"
        else:
            frontier, start, via = None, self.temp(), self.temp()
            for position, step in enumerate(path):
                final = position == len(path) - 1
                reached = self.assign("{}" if final else "set()")
                around = self.block(f"for {start} in {frontier}:") if frontier else contextlib.nullcontext()
                with around, self.edges(step, start if frontier else f"{at.node}.id", via) as other:
                    if final:
                        self.line(f"if ({other}, {via}.key) not in {reached}: {reached}[{other}, {via}.key] = {via}")
                    else:
                        self.line(f"{reached}.add({other})")
                if not final:
                    frontier = self.assign(f"sorted({reached})")
            pairs = f"[{reached}[k] for k in sorted({reached})]" if ordered else f"{reached}.values()"
            header = f"for {edge} in {pairs}:"
        with self.block(header):
            self.line(f"{node} = nodes[{edge}.{end}]")
            if len(path) == 1 and last.node_type is not None:
                self.line(f"if {node}.type != {last.node_type!r}: continue")
            yield _Place(node, f"{node}.attrs", edge)

    def aggregate(
        self, func: str, path: tuple[ast.Step, ...], where: ast.Expr | None, value: ast.Expr | None, at: _Place
    ) -> str:
        if where is None and func in ("count", "exists") and len(path) == 1 and path[0].node_type is None:
            step = path[0]
            self.uses.add(f"{step.direction}_edges")
            edges = f"{step.direction}_edges({at.node}.id, {step.relation!r})"
            return self.assign(f"len({edges})" if func == "count" else f"len({edges}) > 0")
        if func in ("exists", "all", "count"):
            return self.quantifier(func, path, where, at)
        chosen = self.assign("[]")
        with self.loop(path, at, ordered=True) as inside:
            if where is None:
                self.line(f"{chosen}.append({'_U' if value is None else self.value(value, inside)})")
            else:
                verdict = self.named(self.value(where, inside))
                with self.block(f"if {verdict} is True:"):
                    self.line(f"{chosen}.append({'_U' if value is None else self.value(value, inside)})")
                with self.block(f"elif {verdict} is not False:"):
                    self.line(f"{chosen} = None")
                    self.line("break")
        if where is None:
            return self.assign(f"_fold({func!r}, {chosen})")
        return self.assign(f"_U if {chosen} is None else _fold({func!r}, {chosen})")

    def quantifier(self, func: str, path: tuple[ast.Step, ...], where: ast.Expr | None, at: _Place) -> str:
        """exists / all / count, stopping as soon as the answer is settled."""
        result = self.assign({"exists": "False", "all": "True", "count": "0"}[func])
        if where is None and func == "all":
            return result
        with self.loop(path, at, ordered=False) as inside:
            if where is None:
                self.line(f"{result} = True; break" if func == "exists" else f"{result} += 1")
                return result
            verdict = self.named(self.value(where, inside))
            if func == "exists":
                with self.block(f"if {verdict} is True:"):
                    self.line(f"{result} = True")
                    self.line("break")
                self.line(f"if {verdict} is not False: {result} = _U")
            elif func == "all":
                with self.block(f"if {verdict} is False:"):
                    self.line(f"{result} = False")
                    self.line("break")
                self.line(f"if {verdict} is not True: {result} = _U")
            else:
                with self.block(f"if {verdict} is True:"):
                    self.line(f"{result} += 1")
                with self.block(f"elif {verdict} is not False:"):
                    self.line(f"{result} = _U")
                    self.line("break")
        return result

    # --- the rule --------------------------------------------------------------------------

    def write(self) -> list[str]:
        """The rule's function: every subject, scope first, then the body, then the verdict."""
        rule = self.rule
        subject = _Place("subject", "attrs", None)
        self.lines, self.depth = [], 2
        scope = None if rule.scope is None else self.named(self.value(rule.scope, subject))
        with self.block(f"if {scope} is True:") if scope else contextlib.nullcontext():
            body = self.named(self.value(rule.body, subject))
            self.outcome(f"if {body} is True:", True)
            self.outcome(f"elif {body} is False:", False)
            self.outcome("else:", {"breach": True, "pass": False}.get(rule.on_missing, UNKNOWN))
        if rule.derive and scope:
            with self.block("else:"):
                self.line(f"facts[{rule.derive!r}] = False")
        evaluation = self.lines

        self.lines, self.depth = [], 0
        with self.block(f"def {self.name}(subjects, index, as_of, derived, rollup, found):"):
            self.setup()
            for name, _ in self.rule.lets:  # in the rule's order, not the order first read
                self.lines.extend(self.let_functions.get(name, ()))
            with self.block("for subject in subjects:"):
                self.line("attrs = subject.attrs")
                if rule.derive:
                    self.line("facts = derived.setdefault(subject.id, {})")
                elif "facts" in self.uses:
                    self.line("facts = derived.get(subject.id, _NO_FACTS)")
                if self.let_functions:
                    self.line(" = ".join(self.lets[name][0] for name in self.let_functions) + " = _NA")
                self.lines.extend(evaluation)
        return [*self.lines, ""]

    def write_lets(self) -> list[str]:
        """A function computing every let of the rule for one subject, in the rule's order
        (for the evidence and messages: the values the reference interpreter gives)."""
        subject = _Place("subject", "attrs", None)
        self.lines, self.depth = [], 1
        results = [self.value(ast.LetRef(name), subject) for name, _ in self.rule.lets]
        self.line("return (" + "".join(f"{r}, " for r in results) + ")")
        evaluation = self.lines

        self.lines, self.depth = [], 0
        with self.block(f"def {self.name}(subject, index, as_of, facts, rollup):"):
            self.setup()
            for name, _ in self.rule.lets:
                self.lines.extend(self.let_functions.get(name, ()))
            self.line("attrs = subject.attrs")
            self.line(" = ".join(self.lets[name][0] for name in self.let_functions) + " = _NA")
            self.lines.extend(evaluation)
        return [*self.lines, ""]

    def setup(self) -> None:
        """The names the function reads the index and the date through."""
        if "as_of_date" in self.uses:
            self.line("as_of_date = type(as_of) is _date")
        if "nodes" in self.uses:
            self.line("nodes = index.nodes")
        for direction in ("out", "in"):
            if f"{direction}_edges" in self.uses:
                self.line(f"{direction}_edges = index.{direction}_edges")

    def outcome(self, header: str, verdict: Any) -> None:
        """What a verdict does: set the derived fact, or record a finding (True or UNKNOWN)."""
        with self.block(header):
            if self.rule.derive:
                self.line(f"facts[{self.rule.derive!r}] = {self.module.literal(verdict)}")
            elif verdict is True or verdict is UNKNOWN:
                self.line(f"found.append(_Finding({self.rule_name}, subject.id, {self.module.literal(verdict)}))")


def generate(pack: Pack) -> tuple[str, dict[str, Any]]:
    """The module source for a pack's rules, and the data its names are bound to."""
    module = _Module()
    derived_names = frozenset(r.derive for r in pack.rules if r.derive)
    for position, rule in enumerate(pack.rules):
        module.body.extend(_RuleWriter(module, position, rule, derived_names).write())
    module.body.append("RULES = (" + "".join(f"_rule{i}, " for i in range(len(pack.rules))) + ")")
    return module.source(), module.bound


def compile_pack(pack: Pack) -> tuple[RuleFunction, ...]:
    """One function per rule of the pack, in the pack's (stratified) order."""
    source, bound = generate(pack)
    namespace: dict[str, Any] = {"__builtins__": _BUILTINS, **_HELPERS, **bound}
    exec(compile(source, f"<rules of pack {pack.name!r}>", "exec"), namespace)  # generated from the AST, see above
    return namespace["RULES"]


def generate_lets(pack: Pack) -> tuple[str, dict[str, Any]]:
    """The module source for the lets of a pack's rules (None for a rule without lets), and
    the data its names are bound to. Separate from the rules' module, which it leaves as is."""
    module = _Module()
    derived_names = frozenset(r.derive for r in pack.rules if r.derive)
    names = []
    for position, rule in enumerate(pack.rules):
        if rule.lets:
            module.body.extend(_RuleWriter(module, position, rule, derived_names).write_lets())
            names.append(f"_rule{position}, ")
        else:
            names.append("None, ")
    module.body.append("LETS = (" + "".join(names) + ")")
    return module.source(), module.bound


def compile_lets(pack: Pack) -> tuple[LetsFunction | None, ...]:
    """One function per rule of the pack computing its lets for one subject (None when the
    rule has none), in the pack's order."""
    source, bound = generate_lets(pack)
    namespace: dict[str, Any] = {"__builtins__": _BUILTINS, **_HELPERS, **bound}
    exec(compile(source, f"<lets of pack {pack.name!r}>", "exec"), namespace)  # generated from the AST, see above
    return namespace["LETS"]
