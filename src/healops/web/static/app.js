// healops console: refresh live pages unless the operator is typing.
"use strict";
(function () {
  const seconds = Number(document.body.dataset.refresh || 0);
  if (!seconds) return;
  setInterval(function () {
    const active = document.activeElement;
    const typing = active && (active.tagName === "INPUT" || active.tagName === "SELECT"
      || active.tagName === "TEXTAREA");
    if (!typing && document.visibilityState === "visible") window.location.reload();
  }, seconds * 1000);
})();
