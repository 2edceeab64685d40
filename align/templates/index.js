(function () {
  "use strict";
  var table = document.querySelector("table.idx");
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var header = document.getElementById("top");

  // The column headings stick below the page header, whose height depends on the window width.
  function measure() { document.documentElement.style.setProperty("--hh", header.offsetHeight + "px"); }

  // Sort by the cell's data-v (numbers, verdict rank) or its text; empty values go last.
  function sortBy(col, numeric, descending) {
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) {
      var cell = row.cells[col];
      var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
      return numeric ? (v === "" ? NaN : Number(v)) : v.toLowerCase();
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var xMissing = numeric ? isNaN(x) : x === "", yMissing = numeric ? isNaN(y) : y === "";
      if (xMissing || yMissing) return xMissing - yMissing;
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  heads.forEach(function (th, col) {
    var button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", function () {
      var descending = th.getAttribute("aria-sort") === "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      sortBy(col, th.dataset.type === "num", descending);
    });
  });
  window.addEventListener("resize", measure);
  measure();
  document.documentElement.dataset.ready = "1"; // lets automation (and the tests) see that the script ran
})();
