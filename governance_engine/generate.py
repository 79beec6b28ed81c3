"""Synthetic pmo-state/1 portfolios: realistic projects (gates, a task network, milestones,
risks, issues, change requests, documents, people with allocations), a controllable share of
them breaking catalogue policies, deterministic for a seed. For benchmarks, property tests
and demos (`govern generate`)."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PHASES = ("initiation", "planning", "execution", "closing")
DOCUMENT_KINDS = ("charter", "business_case", "project_plan", "schedule_baseline", "risk_register", "status_report")
PMO_TYPES = ("supportive", "controlling", "directive")


class _Builder:
    def __init__(self, rng: random.Random, prefix: str, as_of: date, breaking: bool) -> None:
        self.rng, self.prefix, self.as_of, self.breaking = rng, prefix, as_of, breaking
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []

    def node(self, letter: str, type_: str, **attrs: Any) -> str:
        node_id = f"{self.prefix}-{letter}{sum(1 for n in self.nodes if n['type'] == type_)}"
        self.nodes.append({"id": node_id, "type": type_, **{k: v for k, v in attrs.items() if v is not None}})
        return node_id

    def edge(self, source: str, target: str, relation: str, **attrs: Any) -> None:
        self.edges.append({"source": source, "target": target, "relation": relation, **attrs})

    def day(self, offset: int) -> str:
        return (self.as_of + timedelta(days=offset)).isoformat()

    def bad(self, share: float = 0.3) -> bool:
        """Whether this detail breaks a policy: only on breaking projects, and not everywhere."""
        return self.breaking and self.rng.random() < share


def _project(builder: _Builder, tasks: int) -> str:
    rng, b = builder.rng, builder
    phase = rng.choice(PHASES[1:]) if rng.random() < 0.9 else "initiation"
    budget = rng.randrange(200, 3000) * 1000
    planned = round(budget * rng.uniform(0.2, 0.8))
    cpi = rng.uniform(0.78, 1.0) if b.bad(0.6) else rng.uniform(0.96, 1.1)
    spi = rng.uniform(0.8, 1.0) if b.bad(0.4) else rng.uniform(0.96, 1.05)
    earned = round(planned * spi)
    doing_work = phase in ("execution", "closing")
    project = b.node(
        "p",
        "project",
        name=f"Project {b.prefix}",
        phase=phase,
        status="active",
        priority=rng.choice(("low", "medium", "high")),
        start=b.day(-rng.randrange(100, 400)),
        finish=b.day(rng.randrange(60, 300)),
        baseline_finish=b.day(rng.randrange(60, 200)),
        forecast_finish=b.day(rng.randrange(60, 260)),
        budget=budget,
        contingency=round(budget * 0.08),
        planned_value=planned if doing_work else None,
        earned_value=earned if doing_work else None,
        actual_cost=(None if b.bad(0.1) else round(earned / cpi)) if doing_work else None,
        percent_complete=round(100 * earned / budget) if doing_work else 0,
        rag_status=rng.choice(("green", "amber")) if b.bad(0.5) else "amber",
    )
    people = [
        b.node(
            "u",
            "person",
            name=f"Person {b.prefix}-{i}",
            role=role,
            capacity=40,
            certifications=["PMP"] if role == "project_manager" and not b.bad(0.3) else [],
        )
        for i, role in enumerate(("sponsor", "project_manager", "engineer", "engineer", "analyst", "analyst"))
    ]
    sponsor, manager = people[0], people[1]
    if not b.bad(0.1):
        b.edge(sponsor, project, "sponsors")
    b.edge(manager, project, "manages")
    objective = b.node("o", "objective", name="Grow digital revenue")
    if not b.bad(0.2):
        b.edge(project, objective, "aligns_with")
    reached = PHASES.index(phase)
    for sequence, target in enumerate(PHASES[1:], start=1):
        if sequence > reached + 1:
            break
        requested = sequence == reached + 1
        gate = b.node(
            "g",
            "gate",
            name=f"Gate to {target}",
            sequence=sequence,
            target_phase=target,
            status="requested" if requested else ("approved" if not b.bad(0.1) else "pending"),
            requested_on=b.day(-rng.randrange(1, 25)),
        )
        b.edge(project, gate, "contains")
        if not requested:
            b.edge(manager if b.bad(0.15) else sponsor, gate, "approves")
    for kind in DOCUMENT_KINDS:
        if b.bad(0.15):
            continue
        approved = not b.bad(0.2)
        doc = b.node(
            "d",
            "document",
            kind=kind,
            status="approved" if approved else "draft",
            updated_on=b.day(-rng.randrange(1, 60)),
            approved_on=b.day(-rng.randrange(1, 20 if kind == "status_report" else 90)) if approved else None,
        )
        b.edge(project, doc, "contains")
    task_ids: list[str] = []
    for i in range(tasks):
        start = -rng.randrange(0, 120) + i
        duration = rng.randrange(2, 20)
        finished = start + duration < 0
        status = "completed" if finished and not b.bad(0.05) else ("in_progress" if start < 0 else "not_started")
        task = b.node(
            "t",
            "task",
            name=f"Task {i}",
            start=b.day(start),
            finish=b.day(start + duration),
            duration_days=duration,
            percent_complete=100 if status == "completed" else rng.randrange(0, 90),
            status=status,
            completed_on=b.day(start + duration) if status == "completed" else None,
        )
        b.edge(project, task, "contains")
        for earlier in rng.sample(task_ids, k=min(len(task_ids), rng.choice((0, 1, 1, 2)))):
            b.edge(
                task,
                earlier,
                "depends_on",
                kind=rng.choice(("FS", "FS", "FS", "SS", "FF")),
                lag_days=rng.choice((0, 0, 2)),
            )
        task_ids.append(task)
        person = rng.choice(people[2:])
        b.edge(person, task, "assigned_to", allocation=rng.choice((20, 30, 40, 50, 60)) if not b.bad(0.05) else 90)
    for i in range(max(1, tasks // 15)):
        done = not b.bad(0.3) and rng.random() < 0.5
        milestone = b.node(
            "m",
            "milestone",
            name=f"Milestone {i}",
            due=b.day(rng.randrange(-40, 90)),
            baseline_finish=b.day(rng.randrange(-30, 90)),
            status="completed" if done else "pending",
        )
        b.edge(project, milestone, "contains")
    for i in range(max(2, tasks // 8)):
        probability, impact = rng.randrange(1, 6), rng.randrange(1, 6)
        risk = b.node(
            "r",
            "risk",
            title=f"Risk {i}",
            probability=probability,
            impact=impact,
            status="open" if rng.random() < 0.8 else "closed",
            review_due=b.day(rng.randrange(-20, 60) if b.bad(0.3) else rng.randrange(5, 60)),
        )
        b.edge(project, risk, "contains")
        if not b.bad(0.2):
            b.edge(rng.choice(people[1:]), risk, "owns")
        if probability * impact >= 5 and not b.bad(0.3):
            b.edge(rng.choice(task_ids), risk, "mitigates")
    for i in range(max(1, tasks // 20)):
        issue = b.node(
            "i",
            "issue",
            title=f"Issue {i}",
            severity=rng.choice(("low", "medium", "high", "critical")),
            status="open",
            opened_on=b.day(-rng.randrange(5, 60)),
            due=b.day(rng.randrange(-20, 0) if b.bad(0.3) else rng.randrange(1, 40)),
        )
        b.edge(project, issue, "contains")
    for i in range(max(1, tasks // 25)):
        big = b.bad(0.4)
        change = b.node(
            "c",
            "change_request",
            title=f"Change {i}",
            status=rng.choice(("submitted", "approved")),
            cost_impact=rng.randrange(0, 3) * (60000 if big else 8000),
            schedule_impact_days=rng.randrange(0, 3) * (15 if big else 4),
            submitted_on=b.day(-rng.randrange(1, 30)),
        )
        b.edge(project, change, "contains")
    return project


def generate_portfolio(
    projects: int, *, seed: int = 0, tasks: int = 60, breaking_share: float = 0.3, as_of: date = date(2026, 11, 20)
) -> list[dict[str, Any]]:
    """One state document per project (about 150 nodes and 250 edges with tasks=60), each
    governed by a PMO of a type drawn from the seed."""
    rng = random.Random(seed)
    documents = []
    for number in range(projects):
        builder = _Builder(rng, f"x{number}", as_of, rng.random() < breaking_share)
        project = _project(builder, tasks)
        pmo = builder.node("pmo", "pmo", name="PMO", pmo_type=rng.choice(PMO_TYPES))
        builder.edge(pmo, project, "governs")
        documents.append(
            {
                "directed": True,
                "multigraph": True,
                "graph": {"schema": "pmo-state/1", "as_of": as_of.isoformat(), "currency": "EUR"},
                "nodes": builder.nodes,
                "edges": builder.edges,
            }
        )
    return documents


def write_portfolio(
    out: Path, projects: int, *, seed: int = 0, tasks: int = 60, breaking_share: float = 0.3
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for number, document in enumerate(
        generate_portfolio(projects, seed=seed, tasks=tasks, breaking_share=breaking_share)
    ):
        path = out / f"project-{number:05d}.json"
        path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written
