// The Images tab: one card per image name with a step slider over its images, and a
// lightbox (click an image; Escape or a click closes it).
import { artifactUrl, formatWhen } from "./common.js";

export function bindImages(runId) {
  const box = document.getElementById("lightbox");
  for (const card of document.querySelectorAll(".image-group")) {
    const steps = JSON.parse(card.querySelector(".image-steps").textContent);
    const img = card.querySelector("img"), link = card.querySelector("a.open-lightbox");
    const when = card.querySelector(".when");
    const slider = card.querySelector(".step-slider input");
    slider?.addEventListener("input", () => {
      const item = steps[Number(slider.value)];
      const url = artifactUrl(runId, item.path);
      img.src = url;
      link.href = url;
      when.textContent = formatWhen(item.time) + (item.step !== null && item.step !== undefined ? ` · step ${item.step}` : "");
    });
    link.addEventListener("click", (ev) => {
      ev.preventDefault();
      box.querySelector("img").src = link.href;
      box.querySelector(".lightbox-caption").textContent = `${card.dataset.name} · ${when.textContent}`;
      box.hidden = false;
    });
  }
  if (!box) return;
  box.addEventListener("click", () => { box.hidden = true; });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") box.hidden = true; });
}
