(function () {
  "use strict";
  // Filters of the decisions table: each select matches a data attribute of the rows; the
  // search box matches the row's text. Rows are hidden, never removed.
  var table = document.getElementById("decision-table");
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var selects = Array.prototype.slice.call(document.querySelectorAll("#filters select"));
  var search = document.getElementById("f-text");
  var shown = document.getElementById("shown");
  var empty = document.getElementById("no-match");
  var texts = null;
  var pending = 0;

  function apply() {
    var wanted = selects
      .filter(function (s) { return s.value !== ""; })
      .map(function (s) { return [s.dataset.key, s.value]; });
    var needle = search.value.trim().toLowerCase();
    if (needle && texts === null) {
      texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    }
    var count = 0;
    rows.forEach(function (row, i) {
      var ok = wanted.every(function (w) { return row.dataset[w[0]] === w[1]; }) &&
        (!needle || texts[i].indexOf(needle) !== -1);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = count.toLocaleString("en");
    empty.hidden = count !== 0;
  }

  function later() {
    window.clearTimeout(pending);
    pending = window.setTimeout(apply, rows.length > 5000 ? 150 : 0);
  }

  selects.forEach(function (s) { s.addEventListener("change", apply); });
  search.addEventListener("input", later);
  document.getElementById("filters").addEventListener("reset", function () { window.setTimeout(apply, 0); });
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });

  // A summary tile filters the table by its outcome.
  Array.prototype.forEach.call(document.querySelectorAll("[data-filter-outcome]"), function (tile) {
    tile.addEventListener("click", function () {
      document.getElementById("f-outcome").value = tile.dataset.filterOutcome;
      apply();
      document.getElementById("decisions").scrollIntoView();
    });
  });
})();
