// Kanban drag and drop with native HTML5 events: dropping a card on another column asks the
// server to move the deal (the same gated move as the detail page). If the gate is not met the
// answer is the "what is missing" form, shown in a dialog; a successful move reloads the board.
(function () {
  var board = document.getElementById("kanban");
  var dialog = document.getElementById("move-dialog");
  if (!board || !dialog || !window.htmx) return;
  var dragged = null;
  function column(el) { return el && el.closest ? el.closest(".kanban-column") : null; }
  board.addEventListener("dragstart", function (e) {
    dragged = e.target.closest(".kanban-card");
    if (!dragged) return;
    e.dataTransfer.setData("text/plain", dragged.dataset.deal);
    e.dataTransfer.effectAllowed = "move";
    dragged.classList.add("dragging");
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });
  board.addEventListener("dragover", function (e) {
    var col = column(e.target);
    if (!col || !dragged) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    col.classList.add("drop-target");
  });
  board.addEventListener("dragleave", function (e) {
    var col = column(e.target);
    if (col && !col.contains(e.relatedTarget)) col.classList.remove("drop-target");
  });
  board.addEventListener("drop", function (e) {
    var col = column(e.target);
    if (!col || !dragged) return;
    e.preventDefault();
    col.classList.remove("drop-target");
    if (column(dragged) === col) return;
    htmx.ajax("POST", dragged.dataset.moveUrl, {
      source: dragged, target: "#move-dialog-body", swap: "innerHTML",
      values: { stage: col.dataset.stage }
    });
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target.id === "move-dialog-body" && !dialog.open) dialog.showModal();
  });
})();
