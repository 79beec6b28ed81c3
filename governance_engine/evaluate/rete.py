"""The Rete evaluator on durable-rules: the engine of long-lived sessions, and `--engine rete`.

Every candidate subject is one fact. A Python pre-pass puts on it the operands of each rule's
conditions (attribute values, graph functions, date arithmetic — what durable-rules' condition
language cannot compute); durable-rules matches the boolean structure of every rule, its
version window and its node type. Three-valued logic is compiled into two conditions per
rule, "definitely true" and "definitely false" (Kleene: T(a and b) = T(a) & T(b),
F(a and b) = F(a) | F(b)); neither matching means unknown. Derived facts chain forward:
a deriving rule's match retracts the subject's fact and asserts it again with the fact set,
and the rules that read it match the new fact. Negation as failure (a derived fact whose rule
did not apply is false) is applied stratum by stratum, as in stratified Datalog.

durable-rules quirks handled here and nowhere else: the host is per evaluator (rulesets are
registered by name); every rule has its own action (actions sharing a function name are
silently merged by durable.lang); facts are asserted one at a time (assert_facts loses
matches); a fact no rule matches raises MessageNotHandledException, and deleting a session
that only holds such facts crashes the process (so each session gets an anchor fact); `id` and `sid` are the
engine's own fields, so node ids travel as `nid`. The C core is not re-entrant: one lock.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import struct
import threading
from datetime import date
from typing import Any, cast

from durable import engine as durable
from durable_rules_engine import error as durable_engine_error

from ..errors import RulesetError
from ..language import ast
from ..language.packs import Pack
from ..language.rules import Rule
from ..state.index import Node, StateIndex
from . import values as v
from .common import EVERYTHING, Finding, Scope
from .snapshot import Compiled, _Ctx, compile_expression

ALWAYS: dict[str, Any] = {"$ex": {"nid": 1}}
NEVER: dict[str, Any] = {"$nex": {"nid": 1}}
NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
DURABLE_OP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
ORDERED_TAGS = ("n", "s", "d")
SESSION_ANCHOR = "$session"
_names = itertools.count()


class _Host(durable.Host):
    """A host without durable's background dispatch threads: every action runs inside our
    own assert/retract calls, under our lock, never concurrently from a timer."""

    def _run(self) -> None:
        return None


def encode(value: Any) -> tuple[str, Any] | None:
    """A known value as (tag, JSON value) for a fact; None when absent. Tags keep kinds apart
    so that the Rete, like the reference, never compares a date with a number."""
    if value is v.UNKNOWN or value is None:
        return None
    if value is True or value is False:
        return "b", value
    if v.is_number(value):
        return "n", number_key(value)
    if isinstance(value, str):
        return "s", value
    if isinstance(value, date):
        return "d", value.toordinal()
    if isinstance(value, list):
        return "l", "\x1f".join(sorted(map(repr, value)))
    return "x", None


def number_key(value: int | float) -> int:
    """A number's place among all floats, as an integer that compares (<, ==) exactly as the
    floats do. durable-rules compares 64-bit integers exactly, while its JSON parser refuses
    floats as Python writes some of them (2e-05, 1e+16), so no float is ever sent to it.
    Beyond the float range a number counts as infinite (the schema keeps inputs within
    ±1e300; only arithmetic in a rule can go beyond)."""
    try:
        number = float(value)
    except OverflowError:
        number = math.inf if value > 0 else -math.inf
    bits = struct.unpack("<q", struct.pack("<d", number))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)  # -0.0 and 0.0 meet at 0


def _combine(op: str, identity: dict, absorbing: dict, conditions: tuple[dict, ...]) -> dict:
    """Nested $and/$or flattened: durable-rules refuses deep trees (error 113)."""
    parts: list[dict] = []
    for condition in conditions:
        if condition is absorbing:
            return absorbing
        if condition is identity:
            continue
        parts.extend(condition[op] if set(condition) == {op} else [condition])
    if not parts:
        return identity
    return parts[0] if len(parts) == 1 else {op: parts}


def _all(*conditions: dict) -> dict:
    return _combine("$and", ALWAYS, NEVER, conditions)


def _any(*conditions: dict) -> dict:
    return _combine("$or", NEVER, ALWAYS, conditions)


def _constant(expr: ast.Expr) -> bool:
    """True when nothing in the expression depends on the state or the date: the compiler
    settles it once instead of sending it to the Rete."""
    return all(
        isinstance(
            e,
            ast.Literal
            | ast.ListExpr
            | ast.Arith
            | ast.Neg
            | ast.Compare
            | ast.IsNull
            | ast.Index
            | ast.Not
            | ast.And
            | ast.Or,
        )
        or (
            isinstance(e, ast.Call)
            and e.name not in {"days_since", "days_until", "working_days_since", "working_days_until"}
        )
        for e in ast.walk(expr)
    )


class _Operand:
    """A value the pre-pass computes and puts on the fact under `name` (and its tag)."""

    __slots__ = ("name", "compute", "partner")

    def __init__(self, name: str, compute, partner: Any = v.UNKNOWN) -> None:
        self.name, self.compute, self.partner = name, compute, partner


class _RuleCompiler:
    """One rule's conditions in durable-rules JSON, and the operands they read."""

    def __init__(self, prefix: str, derived_names: frozenset[str]) -> None:
        self.prefix, self.derived_names = prefix, derived_names
        self.operands: list[_Operand] = []
        self.pairs: list[tuple[_Operand, _Operand, str]] = []

    def _operand(self, expr: ast.Expr) -> _Operand:
        operand = _Operand(f"{self.prefix}o{len(self.operands)}", compile_expression(expr, self.derived_names))
        self.operands.append(operand)
        return operand

    def forms(self, expr: ast.Expr) -> tuple[dict, dict]:
        """(definitely true, definitely false) conditions of a boolean expression."""
        if _constant(expr):
            # a constant reads neither the state nor a subject: there are none to give it
            no_state, no_subject = cast(StateIndex, None), cast(Node, None)
            value = v.truth(compile_expression(expr, self.derived_names)(_Ctx(no_state, date.min), no_subject, None))
            return (ALWAYS if value is True else NEVER), (ALWAYS if value is False else NEVER)
        match expr:
            case ast.And(items=items):
                parts = [self.forms(i) for i in items]
                return _all(*(t for t, _ in parts)), _any(*(f for _, f in parts))
            case ast.Or(items=items):
                parts = [self.forms(i) for i in items]
                return _any(*(t for t, _ in parts)), _all(*(f for _, f in parts))
            case ast.Not(operand=o):
                true, false = self.forms(o)
                return false, true
            case ast.Literal(value=True):
                return ALWAYS, NEVER
            case ast.Literal(value=False):
                return NEVER, ALWAYS
            case ast.Attr(name=name) if name in self.derived_names:
                return {f"d_{name}": True}, {f"d_{name}": False}
            case ast.IsNull(operand=o, negated=negated):
                operand = self._operand(o)
                present, absent = {"$ex": {operand.name + "t": 1}}, {"$nex": {operand.name + "t": 1}}
                return (present, absent) if negated else (absent, present)
            case ast.Compare(op=op, left=left, right=right) if op in NEGATED:
                return self._comparison(op, left, right)
            case ast.Compare(op=op, left=left, right=ast.Literal(value=list() as items)) if op in ("in", "notin"):
                true, false = self._membership(left, items)
                return (true, false) if op == "in" else (false, true)
            case ast.Compare(op=op, left=left, right=ast.ListExpr(items=items)) if op in ("in", "notin") and all(
                isinstance(i, ast.Literal) for i in items
            ):
                true, false = self._membership(left, [i.value for i in items])  # type: ignore[attr-defined]
                return (true, false) if op == "in" else (false, true)
        operand = self._operand(expr)
        tag = {operand.name + "t": "b"}
        return _all(tag, {operand.name: True}), _all(tag, {operand.name: False})

    def _comparison(self, op: str, left: ast.Expr, right: ast.Expr) -> tuple[dict, dict]:
        if isinstance(left, ast.Literal) and not isinstance(right, ast.Literal):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[op]
            return self._comparison(flipped, right, left)
        if isinstance(right, ast.Literal) and not isinstance(left, ast.Literal):
            operand = self._operand(left)
            operand.partner = right.value
            return self._against_literal(op, operand, right.value), self._against_literal(
                NEGATED[op], operand, right.value
            )
        a, b = self._operand(left), self._operand(right)
        kind = f"{self.prefix}p{len(self.pairs)}"
        self.pairs.append((a, b, kind))
        return self._against_operand(op, a, b, kind), self._against_operand(NEGATED[op], a, b, kind)

    def _test(self, op: str, name: str, value: Any) -> dict:
        return {name: value} if op == "==" else {DURABLE_OP[op]: {name: value}}

    def _against_literal(self, op: str, operand: _Operand, literal: Any) -> dict:
        variants = [encode(literal)]
        if isinstance(literal, str) and v.as_date(literal) is not v.UNKNOWN:
            variants.append(encode(v.as_date(literal)))  # an ISO text compared with a date
        alternatives = []
        for variant in variants:
            if variant is None or variant[0] == "x" or (op not in ("==", "!=") and variant[0] not in ORDERED_TAGS):
                continue
            tag, value = variant
            alternatives.append(_all({operand.name + "t": tag}, self._test(op, operand.name, value)))
        return _any(*alternatives)

    def _against_operand(self, op: str, a: _Operand, b: _Operand, kind: str) -> dict:
        """Two computed operands: the pre-pass records their common kind (none when they
        differ), so the Rete spends one cross-field test per comparison; durable-rules
        allows 32 per condition."""
        comparable = {"$ex": {kind if op in ("==", "!=") else kind + "o": 1}}
        return _all(comparable, self._test(op, a.name, {"$m": b.name}))

    def _membership(self, left: ast.Expr, items: list[Any]) -> tuple[dict, dict]:
        operand = self._operand(left)
        equal = [self._against_literal("==", operand, item) for item in items]
        different = [self._against_literal("!=", operand, item) for item in items]
        present = {"$ex": {operand.name + "t": 1}}
        return _any(*equal), _all(present, *different)


class _CompiledRule:
    def __init__(self, position: int, rule: Rule, derived_names: frozenset[str]) -> None:
        self.rule = rule
        self.prefix = f"r{position}_"
        compiler = _RuleCompiler(self.prefix, derived_names)
        self.let_map = {name: compile_expression(expr, derived_names) for name, expr in rule.lets}
        window: list[dict[str, Any]] = [{"ntype": rule.applies_to}]
        if rule.effective_from:
            window.append({"$gte": {"asof": rule.effective_from.toordinal()}})
        if rule.effective_until:
            window.append({"$lte": {"asof": rule.effective_until.toordinal()}})
        # The pre-pass settles a scope that reads no derived fact itself, by the same Python
        # semantics as the other evaluators, and marks the fact when it holds: out of scope,
        # the network matches none of the rule's forms, so the condition's operands and the
        # lets are not computed at all. A scope that reads a derived fact is left to the
        # network, which settles derived facts by forward chaining.
        reads_derived = any(
            isinstance(e, ast.Attr | ast.SubjectAttr) and e.name in derived_names
            for expr in (rule.scope, *(let for _, let in rule.lets))
            if expr is not None
            for e in ast.walk(expr)
        )
        self.scope: Compiled | None = None
        self.in_scope = f"{self.prefix}scope"
        if rule.scope is None:
            scope_true = ALWAYS
        elif reads_derived:
            scope_true = compiler.forms(rule.scope)[0]
        else:
            self.scope = compile_expression(rule.scope, derived_names)
            scope_true = {self.in_scope: True}
        body_true, body_false = compiler.forms(rule.body)
        self.candidate = _all(*window, scope_true)
        self.fires = _all(self.candidate, body_true)
        self.quiet = _all(self.candidate, body_false)
        self.operands = tuple(compiler.operands)
        self.pairs = tuple(compiler.pairs)


class _Run:
    """What the Rete reported in one session: per subject, the (rule position, form) matched."""

    def __init__(self) -> None:
        self.matches: dict[str, set[tuple[int, str]]] = {}
        self.pending: dict[str, dict[str, bool]] = {}
        self.errors: list[BaseException] = []


class ReteEvaluator:
    name = "rete"

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.derived_names = frozenset(r.derive for r in pack.rules if r.derive)
        # roll-up rules read decisions, which exist only after the decide stage: the engine runs
        # them afterwards, on the compiled snapshot form, under every evaluator
        self._rules = tuple(
            _CompiledRule(i, r, self.derived_names) for i, r in enumerate(r for r in pack.rules if not r.rolls_up)
        )
        self._ruleset = f"governance_{pack.name}_{next(_names)}"
        self._run: _Run | None = None
        self._lock = threading.Lock()
        self._host = _Host()
        self._register()
        self._sessions = itertools.count()

    def _register(self) -> None:
        """Register the pack; where durable-rules refuses it, name the rule it refused."""
        try:  # durable-rules takes the definitions apart: hand it copies
            self._host.register_rulesets({self._ruleset: self._definition()})
        except durable_engine_error as error:
            for name, rule in self._definition().items():
                try:
                    _Host().register_rulesets({f"{self._ruleset}_probe_{next(_names)}": {name: rule}})
                except durable_engine_error:
                    compiled = self._rules[int(name[1:].split("_")[0])]
                    raise RulesetError(
                        f"rule {compiled.rule.id} is too complex for the Rete evaluator ({error}); "
                        "split it, or use the snapshot evaluator",
                        compiled.rule.location,
                    ) from None
            raise

    def _definition(self) -> dict:
        definition: dict[str, Any] = {
            # Every session starts with an anchor fact this rule handles: durable-rules
            # crashes deleting a session whose facts no rule matched.
            "session_anchor": {"all": [{"m": {"ntype": SESSION_ANCHOR}}], "run": lambda closure: None}
        }
        for position, compiled in enumerate(self._rules):
            for form in ("candidate", "fires", "quiet"):
                condition = getattr(compiled, form)
                if condition is NEVER:
                    continue
                definition[f"r{position}_{form}"] = {
                    "all": [{"m": condition}],
                    "run": self._action(position, form),
                }
        return definition

    def _action(self, position: int, form: str):
        rule = self._rules[position].rule

        def record(closure) -> None:
            run = self._run
            assert run is not None  # actions run only inside ReteSession.update, which sets it
            try:
                subject = closure.m.nid
                run.matches.setdefault(subject, set()).add((position, form))
                if rule.derive and form != "candidate":
                    run.pending.setdefault(subject, {})[rule.derive] = form == "fires"
            except BaseException as error:  # durable-rules would log and drop it
                run.errors.append(error)

        return record

    def _fact(self, ctx: _Ctx, subject: Node, session: str) -> dict[str, Any]:
        fact: dict[str, Any] = {"sid": session, "nid": subject.id, "ntype": subject.type, "asof": ctx.as_of.toordinal()}
        ctx.subject, ctx.derived = subject, {}
        for compiled in self._rules:
            if compiled.rule.applies_to != subject.type or not compiled.rule.in_force(ctx.as_of):
                continue  # the network's type and version window would refuse it
            ctx.lets, ctx.let_fns = {}, compiled.let_map
            if compiled.scope is not None:
                if v.truth(compiled.scope(ctx, subject, None)) is not True:
                    continue  # what the scope read is recorded: a change there re-asserts the subject
                fact[compiled.in_scope] = True
            if ctx.visited is not None:  # a session records what every let reads, used or not
                ctx.lets = {name: let(ctx, subject, None) for name, let in compiled.let_map.items()}
            computed = {op.name: op.compute(ctx, subject, None) for op in compiled.operands}
            for a, b, _ in compiled.pairs:  # a date compared with an ISO text compares as dates
                computed[a.name], computed[b.name] = v._coerce_dates(computed[a.name], computed[b.name])
            for operand in compiled.operands:
                value = computed[operand.name]
                if isinstance(operand.partner, date) and isinstance(value, str):
                    value = v.as_date(value)
                encoded = encode(value)
                if encoded is not None:
                    fact[operand.name + "t"] = encoded[0]
                    if encoded[1] is not None:
                        fact[operand.name] = encoded[1]
            for a, b, kind in compiled.pairs:
                tag = fact.get(a.name + "t")
                if tag is not None and tag != "x" and tag == fact.get(b.name + "t"):
                    fact[kind] = tag
                    if tag in ORDERED_TAGS:
                        fact[kind + "o"] = tag
        return fact

    def _assert(self, fact: dict[str, Any]) -> None:
        with contextlib.suppress(durable.MessageNotHandledException):
            self._host.assert_fact(self._ruleset, fact)

    def _retract(self, fact: dict[str, Any]) -> None:
        with contextlib.suppress(durable.MessageNotHandledException):
            self._host.retract_fact(self._ruleset, fact)

    def session(self, as_of: date) -> ReteSession:
        return ReteSession(self, as_of)

    def evaluate(self, index: StateIndex, as_of: date, scope: Scope = EVERYTHING) -> list[Finding]:
        """A one-shot evaluation is a session that sees every subject once."""
        subjects = {n.id for t in self.subject_types for n in scope.select(index.of_type(t))}
        session = self.session(as_of)
        try:
            session.update(index, subjects)
            return session.findings()
        finally:
            session.close()

    @property
    def subject_types(self) -> list[str]:
        return sorted({c.rule.applies_to for c in self._rules})


class ReteSession:
    """The Rete state of one project over time: facts stay in durable-rules between changes,
    and an update re-asserts only the subjects whose facts changed."""

    def __init__(self, evaluator: ReteEvaluator, as_of: date) -> None:
        self.evaluator, self.as_of = evaluator, as_of
        self.run = _Run()
        self.facts: dict[str, dict[str, Any]] = {}
        self.reads: dict[str, set[str]] = {}
        with evaluator._lock:
            self.id = f"s{next(evaluator._sessions)}"
            evaluator._host.assert_fact(evaluator._ruleset, {"sid": self.id, "nid": "", "ntype": SESSION_ANCHOR})

    def update(self, index: StateIndex, subjects: set[str], present: set[str] | None = None) -> set[str]:
        """Bring the facts of `subjects` in line with `index`: those in `present` (default: all
        of them) are asserted as they now are, the others retracted. Returns the subjects
        whose facts changed."""
        ev, run = self.evaluator, self.run
        present = subjects if present is None else present
        ctx = _Ctx(index, self.as_of)
        with ev._lock:
            ev._run = run
            try:
                changed: list[str] = []
                for subject in sorted(subjects):
                    new = None
                    if subject in present:
                        ctx.visited = self.reads[subject] = {subject}
                        new = ev._fact(ctx, index.nodes[subject], self.id)
                    else:
                        self.reads.pop(subject, None)
                    old = self.facts.get(subject)
                    if old is not None and new is not None and new == _base(old):
                        continue
                    if old is not None:
                        ev._retract(old)
                        del self.facts[subject]
                        run.matches.pop(subject, None)
                    if new is not None:
                        self.facts[subject] = new
                        changed.append(subject)
                for subject in changed:
                    ev._assert(self.facts[subject])
                self._settle()
                for position, compiled in enumerate(ev._rules):
                    if compiled.rule.derive:
                        self._close(position, compiled.rule, changed)
                        self._settle()
            finally:
                ev._run = None
        if run.errors:
            raise RuntimeError(f"Rete action failed: {run.errors[0]!r}") from run.errors[0]
        return set(changed)

    def readers(self, nodes: set[str]) -> set[str]:
        """Subjects whose facts were computed from any of these nodes."""
        return {subject for subject, read in self.reads.items() if read & nodes}

    def _settle(self) -> None:
        """Forward chaining: re-assert every fact whose derived facts changed, until none do."""
        run = self.run
        while run.pending:
            pending, run.pending = run.pending, {}
            for subject, derived in sorted(pending.items()):
                old = self.facts[subject]
                new = dict(old)
                new.update({f"d_{name}": value for name, value in derived.items()})
                if new == old:
                    continue
                self.evaluator._retract(old)
                self.facts[subject] = new
                self.evaluator._assert(new)

    def _close(self, position: int, rule: Rule, subjects: list[str]) -> None:
        """Negation as failure for one deriving rule, once its stratum has settled."""
        if not rule.in_force(self.as_of):
            return
        derive = rule.derive
        assert derive is not None  # called for deriving rules only
        key = f"d_{derive}"
        for subject in subjects:
            fact = self.facts[subject]
            if fact["ntype"] != rule.applies_to or key in fact:
                continue
            if (position, "candidate") not in self.run.matches.get(subject, ()):
                self.run.pending.setdefault(subject, {})[derive] = False
            elif rule.on_missing != "insufficient":
                self.run.pending.setdefault(subject, {})[derive] = rule.on_missing == "breach"

    def findings(self) -> list[Finding]:
        """By rule, then by subject; read off the matches (most subjects match few rules)."""
        rules = self.evaluator._rules
        by_rule: dict[int, list[Finding]] = {}
        for subject in sorted(self.facts):
            matched = self.run.matches.get(subject)
            if not matched:
                continue
            for position, form in matched:
                rule = rules[position].rule
                if form != "candidate" or rule.derive:
                    continue
                if (position, "fires") in matched:
                    verdict: Any = True
                elif (position, "quiet") not in matched and rule.on_missing != "pass":
                    verdict = True if rule.on_missing == "breach" else v.UNKNOWN
                else:
                    continue
                by_rule.setdefault(position, []).append(Finding(rule, subject, verdict))
        return [finding for position in sorted(by_rule) for finding in by_rule[position]]

    def close(self) -> None:
        with self.evaluator._lock:
            self.evaluator._host.delete_state(self.evaluator._ruleset, self.id)


def _base(fact: dict[str, Any]) -> dict[str, Any]:
    """A fact without what forward chaining added to it."""
    return {k: v for k, v in fact.items() if not k.startswith("d_")}
