/* Canned replies on the ticket page: insert into the note (at the cursor) or copy, with one click.
   Buttons carry their data: data-insert="#note-box" data-text="…", or data-copy="…";
   the "copied" message comes from data-copied on an ancestor (translated by the template). */
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
    return Promise.resolve();
  }

  function insertAtCursor(box, text) {
    var start = box.selectionStart != null ? box.selectionStart : box.value.length;
    var end = box.selectionEnd != null ? box.selectionEnd : box.value.length;
    var before = box.value.slice(0, start), after = box.value.slice(end);
    var glue = before && !/\s$/.test(before) ? "\n" : "";
    box.value = before + glue + text + after;
    box.focus();
    var caret = (before + glue + text).length;
    box.setSelectionRange(caret, caret);
  }

  document.addEventListener("click", function (evt) {
    if (!evt.target.closest) return;
    var insert = evt.target.closest("[data-insert]");
    if (insert) {
      var box = document.querySelector(insert.getAttribute("data-insert"));
      if (box) insertAtCursor(box, insert.getAttribute("data-text") || "");
      return;
    }
    var copy = evt.target.closest("[data-copy]");
    if (copy) {
      var holder = copy.closest("[data-copied]");
      var message = holder ? holder.getAttribute("data-copied") : "";
      copyText(copy.getAttribute("data-copy")).then(function () {
        if (message && window.kdcsToast) window.kdcsToast(message, "success");
      });
    }
  });
})();
