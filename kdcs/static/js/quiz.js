/* Quiz attempt page: confirm before submitting, count answered questions, and when the
   server's deadline has passed load the attempt again (the server scores what was saved).
   No correct answers ever reach this page before submission; nothing here scores. */
(function () {
  "use strict";

  document.addEventListener("submit", function (evt) {
    var button = evt.submitter;
    var question = button && button.getAttribute("data-quiz-confirm");
    if (question && !window.confirm(question)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  function countAnswered() {
    var badge = document.getElementById("quiz-progress");
    if (!badge) return;
    var questions = document.querySelectorAll("#quiz-form .quiz-question");
    var answered = 0;
    questions.forEach(function (q) { if (q.querySelector("input:checked")) answered += 1; });
    badge.textContent = badge.getAttribute("data-template")
      .replace("{a}", String(answered)).replace("{n}", String(questions.length));
  }
  document.addEventListener("change", function (evt) {
    if (evt.target.closest && evt.target.closest("#quiz-form")) countAnswered();
  });

  function watchDeadline() {
    var el = document.querySelector("[data-quiz-deadline]");
    if (!el) return;
    var due = Date.parse(el.getAttribute("data-quiz-deadline"));
    if (isNaN(due)) return;
    var timer = setInterval(function () {
      if (Date.now() > due + 6000) {
        clearInterval(timer);
        window.location.assign(el.getAttribute("data-quiz-reload"));
      }
    }, 1000);
  }
  document.addEventListener("DOMContentLoaded", watchDeadline);
})();
