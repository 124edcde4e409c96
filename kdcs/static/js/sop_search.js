/* Search as you type, also with a Chinese input method.
   <input data-active-search> fires "active-search" (what hx-trigger listens to) on each
   input, but not while an IME is composing (pinyin letters are not the query yet): then
   once the composition ends. */
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

  document.addEventListener("compositionend", function (evt) {
    var input = evt.target;
    if (input instanceof HTMLInputElement && input.hasAttribute("data-active-search")) fire(input);
  });
})();
