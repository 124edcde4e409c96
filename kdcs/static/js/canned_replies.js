/* Canned replies on the ticket page: insert a filled canned reply into the reply box (at the cursor),
   and copy the reply box to the clipboard (the brand system is another window).
   Buttons carry their data: data-insert="#reply-body" data-text="…" data-missing="名称、…";
   data-copy-from="#reply-body" copies that box; data-copy="…" copies the text itself.
   Messages come from data-copied / data-copy-failed / data-inserted / data-fill on an ancestor
   (translated by the template). A blank the ticket cannot fill is marked 【待填写：名称】: it is
   selected after inserting so the agent types over it, and the agent is told. */
(function () {
  "use strict";

  var MISSING = /【待填写：[^】]*】/;

  function insertAtCursor(box, text) {
    var start = box.selectionStart != null ? box.selectionStart : box.value.length;
    var end = box.selectionEnd != null ? box.selectionEnd : box.value.length;
    var before = box.value.slice(0, start), after = box.value.slice(end);
    var glue = before && !/\s$/.test(before) ? "\n" : "";
    box.value = before + glue + text + after;
    box.focus();
    var inserted = before.length + glue.length;
    var found = MISSING.exec(text);
    if (found) box.setSelectionRange(inserted + found.index, inserted + found.index + found[0].length);
    else box.setSelectionRange(inserted + text.length, inserted + text.length);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function message(el, name) {
    var holder = el.closest("[data-" + name + "]");
    return holder ? holder.getAttribute("data-" + name) : "";
  }

  function say(el, text, kind) {
    var form = el.closest("form");
    var status = form && form.querySelector(".copy-status");
    if (status) status.textContent = text;
    if (text && window.kdcsToast) window.kdcsToast(text, kind || "success");
  }

  /* Tell the agent which blanks are still to fill, under the reply box, as they type. */
  function showMissing(box) {
    var hint = box.form && box.form.querySelector(".reply-missing");
    if (!hint) return;
    var names = [], re = /【待填写：([^】]*)】/g, m;
    while ((m = re.exec(box.value))) if (names.indexOf(m[1]) < 0) names.push(m[1]);
    var template = message(box, "fill");
    hint.textContent = names.length ? template + " (" + names.join("、") + ")" : "";
    hint.classList.toggle("is-warning", names.length > 0);
  }

  document.addEventListener("input", function (evt) {
    if (evt.target.matches && evt.target.matches(".reply-form textarea")) showMissing(evt.target);
  });

  document.addEventListener("click", function (evt) {
    if (!evt.target.closest) return;
    var insert = evt.target.closest("[data-insert]");
    if (insert) {
      var box = document.querySelector(insert.getAttribute("data-insert"));
      if (!box) return;
      var text = insert.getAttribute("data-text") || "";
      insertAtCursor(box, text);
      showMissing(box);
      var missing = MISSING.test(text);
      say(insert, message(insert, missing ? "fill" : "inserted"), missing ? "warning" : "success");
      return;
    }
    var copy = evt.target.closest("[data-copy-from], [data-copy]");
    if (!copy) return;
    var source = copy.hasAttribute("data-copy-from") ? document.querySelector(copy.getAttribute("data-copy-from")) : null;
    var value = source ? source.value : copy.getAttribute("data-copy") || "";
    window.kdcsCopy(value).then(function () {
      say(copy, message(copy, "copied"), "success");
    }, function () {
      /* Fallback: select the text where the agent can copy it by hand. */
      if (source) { source.focus(); source.select(); }
      say(copy, message(copy, "copy-failed"), "warning");
    });
  });
})();
