// Clavex Admin Console: small progressive enhancements. Every page works without this file.
"use strict";

// Copy buttons: <button class="copy" data-copy="ID" hidden> copies the text (or value) of #ID.
// They start hidden, so that browsers without JavaScript or clipboard access never see a dead one.
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const target = document.getElementById(button.dataset.copy);
    if (!target) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = "value" in target ? target.value : target.textContent;
      try {
        await navigator.clipboard.writeText(text.trim());
        const label = button.textContent;
        button.textContent = "Copied";
        setTimeout(() => { button.textContent = label; }, 1500);
      } catch (_) {
        button.textContent = "Select and copy";
      }
    });
  }
  // Forms that ask "are you sure" before a destructive action (data-confirm="question").
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
