// Parts of a console page that take long to count (a group of a million contacts,
// a big run's messages) come after the page: each [data-lazy-url] is fetched and
// shown in place, its scripts (a monitor's refresh) run as if on the page.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-lazy-url]").forEach(function (slot) {
    fetch(slot.dataset.lazyUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        slot.innerHTML = html;
        slot.querySelectorAll("script").forEach(function (old) {
          var script = document.createElement("script");
          script.textContent = old.textContent;
          old.replaceWith(script);
        });
      })
      .catch(function (error) {
        slot.textContent =
          "Not counted (" + error.message + "): reload the page to try again.";
      })
      .finally(function () {
        slot.removeAttribute("aria-busy");
      });
  });
});
