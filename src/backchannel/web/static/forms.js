// Backchannel's forms, a little easier with script on; every form works without it.
// * A condition offers only the options of the issue chosen: the boxes of the other
//   issues are hidden and disabled (a disabled box is not sent; ticks come back when
//   the issue is chosen again).
// * A text with a limit shows how many characters it has, before the limit bites.
// * A form is sent once: a second click while it is on its way does nothing (the
//   server refuses a repeat anyway).
"use strict";

function showOptionsOf(select) {
  const box = document.getElementById(select.dataset.options);
  if (!box) return;
  for (const group of box.querySelectorAll("fieldset.options-of")) {
    const mine = group.dataset.issue === select.value;
    group.hidden = !mine;
    group.disabled = !mine;
  }
}

function countCharacters(area) {
  const counter = document.getElementById(area.getAttribute("aria-describedby"));
  if (!counter) return;
  const limit = Number(area.dataset.limit);
  const used = area.value.length;
  // the page gives both texts in its own language, with {used}, {over} and {limit}
  const text = used > limit ? counter.dataset.over : counter.dataset.count;
  counter.textContent = text
    .replace("{used}", used)
    .replace("{over}", used - limit)
    .replace("{limit}", limit);
  counter.classList.toggle("over", used > limit);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-options]")) {
    showOptionsOf(select);
    select.addEventListener("change", () => showOptionsOf(select));
  }
  for (const area of document.querySelectorAll("textarea[data-limit]")) {
    countCharacters(area);
    area.addEventListener("input", () => countCharacters(area));
  }
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "yes";
    });
  }
});

// a page shown again from the history (the back button) may be sent again
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-sent]")) delete form.dataset.sent;
});
