// modelcollapse report: draw every chart from the inlined figure JSON, then make tables sortable.
// When all charts are drawn, <body data-report-ready="true"> tells a test (or a script) so.
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("mc-figures").textContent);
  var charts = Array.prototype.slice.call(document.querySelectorAll(".mc-chart"));
  var config = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };
  var pending = charts.length;

  function finished() {
    pending -= 1;
    if (pending <= 0) { document.body.dataset.reportReady = "true"; }
  }

  function failed(div, err) {
    var message = (err && err.message) ? err.message : String(err);
    div.dataset.error = message;
    console.error("chart " + div.id + " could not be drawn: " + message);
    finished();
  }

  if (pending === 0) { document.body.dataset.reportReady = "true"; }
  charts.forEach(function (div) {
    var figure = figures[div.id];
    if (!figure) { failed(div, "no figure data"); return; }
    try {
      Plotly.newPlot(div, figure.data, figure.layout, config).then(
        function () { div.dataset.rendered = "true"; finished(); },
        function (err) { failed(div, err); });
    } catch (err) {
      failed(div, err);
    }
  });

  // Sortable tables: click a header to sort by it; numbers by their data-sort value.
  function key(cell) {
    if (cell.dataset.sort !== undefined) { return parseFloat(cell.dataset.sort); }
    return cell.textContent;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, column) {
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[column]), y = key(b.cells[column]);
          var missingX = x === "" || x === "–" || (typeof x === "number" && isNaN(x));
          var missingY = y === "" || y === "–" || (typeof y === "number" && isNaN(y));
          if (missingX || missingY) { return missingX === missingY ? 0 : (missingX ? 1 : -1); }
          var order = (typeof x === "number" && typeof y === "number") ? x - y
            : String(x).localeCompare(String(y), undefined, { numeric: true });
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
