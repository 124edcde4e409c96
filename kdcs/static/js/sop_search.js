/* Search as you type, also with a Chinese input method.
   <input data-active-search> fires "active-search" (what hx-trigger listens to) on each
   input, but not while an IME is composing (pinyin letters are not the query yet): then
   once the composition ends.
   After new results arrive in #sop-results, the one-line summary (or the empty-state
   sentence) is copied into the #sop-status live region, so a screen reader hears
   "12 个场景包含“破损”" instead of the whole list. */
(function () {
  "use strict";

  function fire(input) {
    input.dispatchEvent(new CustomEvent("active-search", { bubbles: true }));
  }

  document.addEventListener("input", function (evt) {
    var input = evt.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-active-search")) return;
    if (evt.isComposing) return;
    fire(input);
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    var results = document.getElementById("sop-results");
    var status = document.getElementById("sop-status");
    if (!results || !status || evt.target !== results) return;
    var line = results.querySelector(".sop-summary, .sop-empty p");
    status.textContent = line ? line.textContent.replace(/\s+/g, " ").trim() : "";
  });

  document.addEventListener("compositionend", function (evt) {
    var input = evt.target;
    if (input instanceof HTMLInputElement && input.hasAttribute("data-active-search")) fire(input);
  });
})();
