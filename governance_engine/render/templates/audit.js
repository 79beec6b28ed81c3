(function () {
  "use strict";
  // The decisions are a JSON block of compact rows (see governance_engine/render/html.py):
  // [outcome, rule, project, pmo type, subject, subject type, message, action?, waiver?], the
  // first four and the subject type being indexes into the block's tables. The decision table,
  // the projects table and a project's page are drawn from them, a page of rows at a time;
  // filters and the search box run over the data, never over the DOM. Text goes into the page
  // as text nodes only, never as markup.
  var data = JSON.parse(document.getElementById("audit-data").textContent);
  var rows = data.decisions;
  var outcomes = data.outcomes;
  var rules = data.rules;
  var projects = data.projects;
  var waivers = data.waivers;
  var P_ANCHOR = 0, P_LABEL = 1, P_PROJECT = 2, P_FILE = 3, P_TYPES = 4, P_COUNTS = 5, P_ACTIONS = 6;
  var projectByAnchor = Object.create(null);
  projects.forEach(function (p, i) { projectByAnchor[p[P_ANCHOR]] = i; });

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null && text !== "") { node.textContent = String(text); }
    return node;
  }

  function cell(tr, className, text) {
    var td = el("td", className, text);
    tr.appendChild(td);
    return td;
  }

  function link(anchor, text) {
    var a = el("a", "", text);
    a.setAttribute("href", "#" + anchor);
    return a;
  }

  function number(n) { return n.toLocaleString("en"); }

  function action(d) { return d.length > 7 && d[7] ? d[7] : null; }

  function waiver(d) { return d.length > 8 ? waivers[d[8]] : null; }

  function owner(a) { return a ? a[3] || a[2] || "" : ""; }

  function badge(outcome) {
    return el("span", "badge o-" + outcomes[outcome][0], outcomes[outcome][1]);
  }

  function outcomeCell(tr, d, long) {
    var td = cell(tr, "");
    td.appendChild(badge(d[0]));
    var w = waiver(d);
    if (w) {
      td.appendChild(document.createTextNode(" "));
      var mark = el("span", "badge waived", "waived");
      if (long) { mark.title = w[0] + " (approved by " + w[1] + ", expires " + w[2] + ")"; }
      td.appendChild(mark);
    }
  }

  function ruleCell(tr, d, version) {
    var rule = rules[d[1]];
    var td = cell(tr, "");
    var abbr = el("abbr", "", rule[0]);
    abbr.title = rule[2];
    td.appendChild(abbr);
    if (version) { td.appendChild(el("span", "dim", "@" + rule[1])); }
  }

  // A table drawn a page at a time from a list of matching indexes.
  function Pager(prefix, table, draw) {
    this.size = parseInt(table.dataset.pageSize, 10) || 100;
    this.body = table.tBodies[0];
    this.box = table.parentNode;
    this.draw = draw;
    this.matches = [];
    this.page = 0;
    this.shown = $(prefix + "-shown");
    this.where = $(prefix + "-where");
    this.empty = $(prefix === "d" ? "no-match" : prefix + "-no-match");
    this.buttons = {};
    var self = this;
    ["first", "prev", "next", "last"].forEach(function (go) {
      var button = $(prefix + "-" + go);
      self.buttons[go] = button;
      button.addEventListener("click", function () { self.go(go); });
    });
  }

  Pager.prototype.pages = function () { return Math.max(1, Math.ceil(this.matches.length / this.size)); };

  Pager.prototype.show = function (matches) {
    this.matches = matches;
    this.page = 0;
    this.render();
  };

  Pager.prototype.go = function (where) {
    var last = this.pages() - 1;
    var page = { first: 0, prev: this.page - 1, next: this.page + 1, last: last }[where];
    this.page = Math.min(last, Math.max(0, page));
    this.render();
  };

  Pager.prototype.render = function () {
    var from = this.page * this.size;
    var to = Math.min(this.matches.length, from + this.size);
    var fragment = document.createDocumentFragment();
    for (var i = from; i < to; i += 1) { fragment.appendChild(this.draw(this.matches[i])); }
    this.body.textContent = "";
    this.body.appendChild(fragment);
    this.box.scrollTop = 0;
    var n = this.matches.length;
    this.shown.textContent = number(n);
    this.where.textContent = "page " + number(this.page + 1) + " of " + number(this.pages()) +
      (n ? " · rows " + number(from + 1) + "–" + number(to) : "");
    this.buttons.first.disabled = this.buttons.prev.disabled = this.page === 0;
    this.buttons.next.disabled = this.buttons.last.disabled = this.page >= this.pages() - 1;
    this.empty.hidden = n !== 0;
  };

  // The decision table.
  function decisionRow(i) {
    var d = rows[i];
    var p = projects[d[2]];
    var a = action(d);
    var tr = el("tr");
    tr.dataset.row = String(i);
    tr.dataset.outcome = outcomes[d[0]][0];
    outcomeCell(tr, d, true);
    ruleCell(tr, d, true);
    var subject = cell(tr, "nowrap", d[4]);
    subject.appendChild(el("br"));
    subject.appendChild(el("span", "dim", data.subject_types[d[5]]));
    cell(tr, "nowrap").appendChild(link(p[P_ANCHOR], p[P_PROJECT] || "outside projects"));
    cell(tr, "", data.pmo_types[d[3]]);
    cell(tr, "message", d[6]);
    cell(tr, "", owner(a));
    cell(tr, "nowrap", a ? a[1] : "");
    cell(tr, "file", p[P_FILE]);
    return tr;
  }

  // What a row shows, lower-cased, for the search box; built on the first search.
  var texts = null;
  function rowText(d) {
    var p = projects[d[2]];
    var rule = rules[d[1]];
    var a = action(d);
    return [
      outcomes[d[0]][1], waiver(d) ? "waived" : "", rule[0] + "@" + rule[1], d[4], data.subject_types[d[5]],
      p[P_PROJECT] || "outside projects", data.pmo_types[d[3]], d[6], owner(a), a ? a[1] || "" : "", p[P_FILE]
    ].join(" ").toLowerCase();
  }

  var decisionPager = new Pager("d", $("decision-table"), decisionRow);
  var outcomeSelect = $("f-outcome"), pmoSelect = $("f-pmo"), ruleSelect = $("f-rule"), projectBox = $("f-project");
  var search = $("f-text");

  function indexOf(list, value, at) {
    for (var i = 0; i < list.length; i += 1) { if ((at === undefined ? list[i] : list[i][at]) === value) { return i; } }
    return -1;
  }

  function filter() {
    var outcome = outcomeSelect.value ? indexOf(outcomes, outcomeSelect.value, 0) : -1;
    var pmo = pmoSelect.value ? indexOf(data.pmo_types, pmoSelect.value) : -1;
    var wanted = projectsWanted();
    var rule = null;
    if (ruleSelect.value) {
      rule = rules.map(function (r) { return r[0] === ruleSelect.value; });
    }
    var needle = search.value.trim().toLowerCase();
    if (needle && texts === null) { texts = rows.map(rowText); }
    var matches = [];
    for (var i = 0; i < rows.length; i += 1) {
      var d = rows[i];
      if ((outcome < 0 || d[0] === outcome) && (pmo < 0 || d[3] === pmo) && (wanted === null || wanted[d[2]]) &&
          (rule === null || rule[d[1]]) && (!needle || texts[i].indexOf(needle) !== -1)) {
        matches.push(i);
      }
    }
    decisionPager.show(matches);
  }

  var pending = {};  // one timer per search box, so typing in one never cancels the other
  function later(box, apply) {
    window.clearTimeout(pending[box]);
    pending[box] = window.setTimeout(apply, rows.length > 20000 ? 120 : 0);
  }

  // The project filter is a box to type in, not a list to scroll through thousands of: a
  // choice from its suggestions (a project and its file) keeps that project's decisions,
  // other text every project whose id or file contains it.
  var projectNames = projects.map(function (p) { return p[P_LABEL] + " (" + p[P_FILE] + ")"; });
  var projectNamesLower = projectNames.map(function (name) { return name.toLowerCase(); });
  var projectByName = Object.create(null);
  projectNames.forEach(function (name, i) { projectByName[name] = i; });

  function projectsWanted() {  // by project index, or null for every project
    var text = projectBox.value.trim();
    if (!text) { return null; }
    var exact = projectByName[text];
    if (exact !== undefined) {
      return projects.map(function (p, i) { return i === exact; });
    }
    var needle = text.toLowerCase();
    return projectNamesLower.map(function (name) { return name.indexOf(needle) !== -1; });
  }

  // The project suggestions, added once the first page of rows is drawn: thousands of
  // options are the slowest part of opening a large report.
  function addProjectOptions() {
    var options = document.createDocumentFragment();
    projectNames.forEach(function (name) {
      var option = el("option");
      option.value = name;
      options.appendChild(option);
    });
    $("f-project-list").appendChild(options);
    document.documentElement.dataset.ready = "true";
    if (window.performance && performance.mark) { performance.mark("audit-ready"); }
  }

  [outcomeSelect, pmoSelect, ruleSelect].forEach(function (s) { s.addEventListener("change", filter); });
  search.addEventListener("input", function () { later("decisions", filter); });
  projectBox.addEventListener("input", function () { later("project filter", filter); });
  $("filters").addEventListener("reset", function () { window.setTimeout(filter, 0); });
  $("filters").addEventListener("submit", function (e) { e.preventDefault(); });

  // A summary tile filters the table by its outcome.
  Array.prototype.forEach.call(document.querySelectorAll("[data-filter-outcome]"), function (tile) {
    tile.addEventListener("click", function () {
      outcomeSelect.value = tile.dataset.filterOutcome;
      filter();
      $("decisions").scrollIntoView();
    });
  });

  // The projects table.
  function strongest(p) {
    return indexOf(p[P_COUNTS].map(function (n) { return n > 0; }), true);
  }

  function projectRow(i) {
    var p = projects[i];
    var tr = el("tr");
    var th = el("th");
    th.scope = "row";
    th.appendChild(link(p[P_ANCHOR], p[P_LABEL]));
    tr.appendChild(th);
    cell(tr, "file", p[P_FILE]);
    cell(tr, "", p[P_TYPES]);
    var top = strongest(p);
    var td = cell(tr, "");
    if (top >= 0) { td.appendChild(badge(top)); }
    p[P_COUNTS].forEach(function (n) { cell(tr, "num", n ? String(n) : "·"); });
    cell(tr, "num", String(p[P_ACTIONS]));
    return tr;
  }

  var projectPager = new Pager("p", $("project-table"), projectRow);
  var projectSearch = $("p-text");
  var projectTexts = projects.map(function (p) { return [p[P_LABEL], p[P_FILE], p[P_TYPES]].join(" ").toLowerCase(); });
  function filterProjects() {
    var needle = projectSearch.value.trim().toLowerCase();
    var matches = [];
    for (var i = 0; i < projects.length; i += 1) {
      if (!needle || projectTexts[i].indexOf(needle) !== -1) { matches.push(i); }
    }
    projectPager.show(matches);
  }
  projectSearch.addEventListener("input", function () { later("projects", filterProjects); });
  $("p-filters").addEventListener("submit", function (e) { e.preventDefault(); });

  // A project's page, drawn when the address names its anchor (a link in the tables or the
  // chart, or a bookmark), hidden otherwise.
  var byProject = null;
  var section = $("selected-project");

  function fill(body, items, draw) {
    var fragment = document.createDocumentFragment();
    items.forEach(function (i) { fragment.appendChild(draw(i)); });
    body.textContent = "";
    body.appendChild(fragment);
  }

  function actionRow(i) {
    var d = rows[i];
    var a = action(d);
    var tr = el("tr");
    cell(tr, "nowrap", a[1]);
    var who = cell(tr, "", a[3] || a[2] || "unassigned");
    if (a[2] && a[3]) {
      who.appendChild(document.createTextNode(" "));
      who.appendChild(el("span", "dim", a[2]));
    }
    cell(tr, "", a[0]);
    cell(tr, "", rules[d[1]][0]);
    cell(tr, "", d[4]);
    cell(tr, "").appendChild(badge(d[0]));
    return tr;
  }

  function projectDecisionRow(i) {
    var d = rows[i];
    var tr = el("tr");
    outcomeCell(tr, d, false);
    ruleCell(tr, d, false);
    var subject = cell(tr, "", d[4]);
    subject.appendChild(document.createTextNode(" "));
    subject.appendChild(el("span", "dim", data.subject_types[d[5]]));
    cell(tr, "message", d[6]);
    return tr;
  }

  function compare(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  function openProject() {
    var anchor = window.location.hash.slice(1);
    try { anchor = decodeURIComponent(anchor); } catch (e) { /* not an anchor of this page */ }
    var index = anchor in projectByAnchor ? projectByAnchor[anchor] : -1;
    if (index < 0) {
      section.hidden = true;
      return;
    }
    if (byProject === null) {
      byProject = projects.map(function () { return []; });
      rows.forEach(function (d, i) { byProject[d[2]].push(i); });
    }
    var p = projects[index];
    var mine = byProject[index];
    section.dataset.project = anchor;
    $("sp-title").textContent = p[P_LABEL];
    $("sp-meta").textContent = p[P_FILE] + " · PMO type " + p[P_TYPES] + " · " + number(mine.length) +
      " decision" + (mine.length === 1 ? "" : "s");
    var tiles = document.createDocumentFragment();
    p[P_COUNTS].forEach(function (n, o) {
      if (!n) { return; }
      var tile = el("span", "tile o-" + outcomes[o][0]);
      tile.appendChild(el("span", "n", String(n)));
      tile.appendChild(el("span", "l", outcomes[o][1]));
      tiles.appendChild(tile);
    });
    $("sp-tiles").textContent = "";
    $("sp-tiles").appendChild(tiles);
    var actions = mine.filter(function (i) { return action(rows[i]) !== null; });
    actions.sort(function (i, j) {
      var a = rows[i], b = rows[j];
      return compare(action(a)[1] || "", action(b)[1] || "") || compare(rules[a[1]][0], rules[b[1]][0]) ||
        compare(a[4], b[4]) || i - j;
    });
    $("sp-actions").hidden = actions.length === 0;
    fill($("sp-actions").querySelector("tbody"), actions, actionRow);
    fill($("sp-decisions").tBodies[0], mine, projectDecisionRow);
    section.hidden = false;
    section.scrollIntoView();
  }

  window.addEventListener("hashchange", openProject);
  // A link to the project already open changes no hash: open (and scroll to) it again.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#project-']") : null;
    if (link && link.getAttribute("href") === window.location.hash) { openProject(); }
  });

  filter();
  filterProjects();
  openProject();
  window.setTimeout(addProjectOptions, 0);
})();
