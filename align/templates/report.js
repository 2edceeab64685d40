(function () {
  "use strict";
  var root = document.documentElement;
  var header = document.getElementById("top");
  var thead = document.querySelector("thead");
  var flagged = Array.prototype.slice.call(document.querySelectorAll("tr.fl"));
  var box = document.getElementById("only-flagged");
  var where = document.getElementById("where");
  var cur = -1;

  // The table header sticks below the page header, whose height depends on the window width.
  function measure() {
    root.style.setProperty("--hh", header.offsetHeight + "px");
    root.style.setProperty("--th", thead.offsetHeight + "px");
  }

  function onScreen(row) {
    var box = row.getBoundingClientRect();
    return box.bottom > header.offsetHeight && box.top < window.innerHeight;
  }

  // Binary search: flagged rows are in document order, so this stays fast for 5,000 beads.
  function firstBelow(y) {
    var lo = 0, hi = flagged.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (flagged[mid].getBoundingClientRect().top <= y) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // Next/previous flagged row from the current one, or from where the reader has scrolled to.
  function jump(step) {
    if (!flagged.length) return;
    var i;
    if (cur >= 0 && onScreen(flagged[cur])) {
      i = cur + step;
    } else {
      var k = firstBelow(header.offsetHeight + thead.offsetHeight + 1);
      i = step > 0 ? k : k - 1;
    }
    i = (i + flagged.length) % flagged.length;
    if (cur >= 0) flagged[cur].classList.remove("cur");
    cur = i;
    flagged[i].classList.add("cur");
    flagged[i].scrollIntoView({block: "start"});
    flagged[i].focus({preventScroll: true});
    where.textContent = "flagged " + (i + 1) + " of " + flagged.length;
  }

  function filter() {
    document.body.classList.toggle("flt", box.checked);
    if (cur >= 0) flagged[cur].scrollIntoView({block: "start"});
  }

  document.getElementById("next").addEventListener("click", function () { jump(1); });
  document.getElementById("prev").addEventListener("click", function () { jump(-1); });
  box.addEventListener("change", filter);
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    if (e.key === "n" || e.key === "j") jump(1);
    else if (e.key === "p" || e.key === "k") jump(-1);
    else if (e.key === "f") { box.checked = !box.checked; filter(); }
    else return;
    e.preventDefault();
  });
  window.addEventListener("resize", measure);
  measure();
  if (!flagged.length) {
    document.getElementById("next").disabled = true;
    document.getElementById("prev").disabled = true;
  }
  root.dataset.ready = "1"; // lets automation (and the tests) see that the script ran
})();
