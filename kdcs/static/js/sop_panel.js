/* SOP scripts: insert a filled script into the note, or copy it, with one click; then tell the
   server which version was used (the ticket's timeline records it).

   Markup (templates/sop/_ticket_panel.html, also usable on the scenario page):
     <div data-sop-item> … <textarea class="sop-text" hidden readonly>filled text</textarea>
       <button data-sop-insert="#note-body" hx-post="…/used" hx-trigger="sop-used" hx-vals=…>
       <button data-sop-copy hx-post="…/used" hx-trigger="sop-used" hx-vals=…>
   Messages come from data-* attributes on an ancestor [data-sop-messages] (translated by the
   template): data-copied, data-inserted, data-copy-failed, data-fill.
   A button with hx-post gets a "sop-used" event after the insert or copy, so the record is only
   sent for a script that really went into the note or the clipboard (or was shown to copy by hand).
   Submitting a reply sends the scenarios open in the panel (#sop-panel[data-used-url]) along. */
(function () {
  "use strict";

  var MISSING = /【待填写：[^】]{1,20}】/;

  function messages(el) {
    var holder = el.closest("[data-sop-messages]");
    return holder ? holder.dataset : {};
  }

  function toast(text, level) {
    if (text && window.kdcsToast) window.kdcsToast(text, level || "success");
  }

  function scriptText(button) {
    var item = button.closest("[data-sop-item]");
    var area = item && item.querySelector(".sop-text");
    return area ? area.value : "";
  }

  /* The clipboard was refused: show the text selected, so Ctrl+C copies it by hand. */
  function showForManualCopy(button, note) {
    var item = button.closest("[data-sop-item]");
    var area = item && item.querySelector(".sop-text");
    if (!area) return;
    area.hidden = false;
    area.classList.add("is-manual");
    var hint = item.querySelector(".sop-copy-hint");
    if (hint) { hint.textContent = note; hint.hidden = false; }
    area.focus();
    area.select();
  }

  function insertAtCursor(box, text) {
    var start = box.selectionStart != null ? box.selectionStart : box.value.length;
    var end = box.selectionEnd != null ? box.selectionEnd : box.value.length;
    var before = box.value.slice(0, start), after = box.value.slice(end);
    var glue = before && !/\s$/.test(before) ? "\n" : "";
    box.value = before + glue + text + after;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    /* Select the first blank still to fill, so the agent types over it; else put the caret after. */
    var inserted = before.length + glue.length;
    var found = MISSING.exec(text);
    if (found) box.setSelectionRange(inserted + found.index, inserted + found.index + found[0].length);
    else box.setSelectionRange(inserted + text.length, inserted + text.length);
  }

  function used(button) {
    if (button.hasAttribute("hx-post") && window.htmx) window.htmx.trigger(button, "sop-used");
  }

  /* Replying (the first-reply form) while the panel shows scenarios: the reply carries the
     versions open in the panel (sop_open), and the server records them as an insert or a copy
     would, before it answers, so the new timeline shows them. */
  document.addEventListener("htmx:configRequest", function (evt) {
    var form = evt.detail.elt;
    var panel = document.getElementById("sop-panel");
    if (!panel || !form.matches || !form.matches("#act-reply form")) return;
    if (!panel.hasAttribute("data-used-url")) return;
    panel.querySelectorAll("details[data-sop-item][open]").forEach(function (item) {
      evt.detail.parameters.append("sop_open", item.getAttribute("data-version-id"));
    });
  });

  document.addEventListener("click", function (evt) {
    if (!evt.target.closest) return;
    var insert = evt.target.closest("[data-sop-insert]");
    if (insert) {
      var box = document.querySelector(insert.getAttribute("data-sop-insert"));
      if (!box) return;
      var text = scriptText(insert);
      insertAtCursor(box, text);
      var m = messages(insert);
      toast(MISSING.test(text) ? m.fill : m.inserted, MISSING.test(text) ? "warning" : "success");
      used(insert);
      return;
    }
    var copy = evt.target.closest("[data-sop-copy]");
    if (copy) {
      var msg = messages(copy);
      window.kdcsCopy(scriptText(copy)).then(function () {
        toast(msg.copied, "success");
        used(copy);
      }, function () {
        showForManualCopy(copy, msg.copyFailed || "");
        used(copy);
      });
    }
  });
})();
