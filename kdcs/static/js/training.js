// Course editor: drag a lesson row onto another row to put it there. The ↑/↓ buttons do the same
// without a mouse (and without JavaScript); both post to the lesson's move URL and htmx swaps the
// lesson list (#course-lessons) the server sends back. No inline handlers (CSP): event delegation.
(function () {
  "use strict";
  var dragged = null;

  function rowOf(node) {
    return node && node.closest ? node.closest("[data-lesson-move]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var row = rowOf(event.target);
    if (!row) return;
    dragged = row;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.id);
    row.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll("[data-lesson-move].drop-target").forEach(function (row) {
      row.classList.remove("drop-target");
    });
    dragged = null;
  });

  document.addEventListener("dragover", function (event) {
    var row = rowOf(event.target);
    if (!dragged || !row || row === dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    row.classList.add("drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var row = rowOf(event.target);
    if (row && !row.contains(event.relatedTarget)) row.classList.remove("drop-target");
  });

  document.addEventListener("drop", function (event) {
    var row = rowOf(event.target);
    if (!dragged || !row || row === dragged || !window.htmx) return;
    event.preventDefault();
    window.htmx.ajax("POST", dragged.dataset.lessonMove, {
      source: dragged,
      target: "#course-lessons",
      swap: "innerHTML",
      values: { position: row.dataset.position },
    });
  });
})();
