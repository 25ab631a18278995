// Patient portal: optional enhancements only (every page works without this script).
"use strict";
(function () {
  // Diary: after picking another day, offer a link to that day's entry (never navigate
  // away by itself, so answers already typed are not lost).
  var form = document.getElementById("diary-form");
  var link = document.getElementById("open-day");
  if (form && link) {
    var day = form.querySelector("input[name=day]");
    var shown = day.value;
    day.addEventListener("change", function () {
      if (day.value && day.value !== shown) {
        link.href = "/me/diary?day=" + encodeURIComponent(day.value);
        link.hidden = false;
      } else {
        link.hidden = true;
      }
    });
  }
  // Saved/status messages get the focus, so screen readers and small screens show them.
  var status = document.querySelector("[role=status].saved, [role=alert].error");
  if (status) {
    status.setAttribute("tabindex", "-1");
    status.focus();
  }
})();
