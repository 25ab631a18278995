// Research page: follow the progress of queued and running analyses.
// Polls GET /api/v1/analyses/{id} every 2 s for each <progress class="job-progress">;
// updates the bar, status and message, and reloads the page when a job finishes or fails
// (so that its report link appears).
(function () {
  "use strict";
  var EVERY_MS = 2000;

  function poll() {
    var bars = document.querySelectorAll("progress.job-progress");
    if (!bars.length) { return; }
    var pending = bars.length;
    var finished = false;
    bars.forEach(function (bar) {
      var id = bar.getAttribute("data-job");
      fetch("/api/v1/analyses/" + encodeURIComponent(id), {credentials: "same-origin",
                                                           headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          bar.value = job.progress;
          bar.textContent = Math.round(job.progress * 100) + "%";
          var message = document.querySelector(".job-message[data-job='" + id + "']");
          if (message) { message.textContent = job.message || ""; }
          var status = document.querySelector(".job-status[data-job='" + id + "']");
          if (status) { status.textContent = job.status; }
          if (job.status === "done" || job.status === "failed") { finished = true; }
        })
        .catch(function () { /* try again next round */ })
        .finally(function () {
          pending -= 1;
          if (pending === 0) {
            if (finished) { window.location.reload(); } else { window.setTimeout(poll, EVERY_MS); }
          }
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(poll, EVERY_MS); });
}());
