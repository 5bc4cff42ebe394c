// What the browsable API's pages do in script. A file, not inline handlers: the pages'
// Content-Security-Policy runs no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // The event list's filter form leaves empty filters out of the URL.
  const filters = document.getElementById("event-filters");
  if (filters) {
    filters.addEventListener("submit", () => {
      for (const field of filters.elements) {
        if (!field.value) {
          field.disabled = true;
        }
      }
    });
  }
  // "Log out" in the navbar posts the logout form (logout takes POST only, with CSRF).
  const logout = document.getElementById("logout-link");
  if (logout) {
    logout.addEventListener("click", (event) => {
      event.preventDefault();
      document.getElementById("logoutForm").submit();
    });
  }
});
