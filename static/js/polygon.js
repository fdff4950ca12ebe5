/* Greenlight polygon drawer: draw a garbage matte or a mask on a frame of the file chosen in a run form.
 *
 * Enhances every `input[data-polygon]` (a list of normalised [x, y] corners typed as JSON, which stays the
 * accessible way to enter one): a button opens a frame of the first chosen file (its poster rendition, else its
 * thumbnail) on a canvas; each click adds a corner, "Undo corner" and "Clear" edit, and the field's JSON follows.
 * Corners are normalised to the frame (0..1, three decimals), the form the tools take.
 */
(function () {
  "use strict";

  function chosenFrame(form) {
    const checked = form.querySelector("input[name=assets]:checked[data-frame]");
    return checked ? { url: checked.dataset.frame, fallback: checked.dataset.frameFallback || "" } : null;
  }

  function parse(value) {
    try {
      const corners = JSON.parse(value);
      if (Array.isArray(corners) && corners.every((c) => Array.isArray(c) && c.length === 2)) return corners;
    } catch (e) { /* not JSON yet: start empty */ }
    return [];
  }

  function button(text) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn--small";
    b.textContent = text;
    return b;
  }

  function enhance(input) {
    const form = input.form;
    if (!form) return;
    const box = document.createElement("div");
    box.className = "polygon-drawer";
    const open = button("Draw on a frame of the chosen file");
    const status = document.createElement("p");
    status.className = "muted polygon-drawer__status";
    status.setAttribute("aria-live", "polite");
    const stage = document.createElement("div");
    stage.className = "polygon-drawer__stage";
    stage.hidden = true;
    const canvas = document.createElement("canvas");
    canvas.className = "polygon-drawer__canvas";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "A frame of the chosen file: click to add a corner");
    const undo = button("Undo corner");
    const clear = button("Clear");
    const tools = document.createElement("div");
    tools.className = "polygon-drawer__tools";
    tools.append(undo, clear);
    stage.append(canvas, tools);
    box.append(open, status, stage);
    input.insertAdjacentElement("afterend", box);

    const image = new Image();
    let corners = parse(input.value);

    function draw() {
      const ctx = canvas.getContext("2d");
      if (!image.naturalWidth) return;
      ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
      if (!corners.length) return;
      ctx.lineWidth = Math.max(2, canvas.width / 300);
      ctx.strokeStyle = "#ffd23f";
      ctx.fillStyle = "rgba(255, 210, 63, 0.25)";
      ctx.beginPath();
      corners.forEach(([x, y], i) => {
        const px = x * canvas.width, py = y * canvas.height;
        if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      });
      if (corners.length > 2) { ctx.closePath(); ctx.fill(); }
      ctx.stroke();
      corners.forEach(([x, y]) => {
        ctx.beginPath();
        ctx.arc(x * canvas.width, y * canvas.height, ctx.lineWidth * 2, 0, 2 * Math.PI);
        ctx.fillStyle = "#ffd23f";
        ctx.fill();
      });
    }

    function changed() {
      input.value = corners.length ? JSON.stringify(corners) : "";
      status.textContent = corners.length
        ? `${corners.length} corner${corners.length === 1 ? "" : "s"}${corners.length < 3 ? " (at least 3 make an area)" : ""}.`
        : "No corners yet.";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      draw();
    }

    image.addEventListener("load", () => {
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      stage.hidden = false;
      changed();
    });
    image.addEventListener("error", () => {
      const frame = chosenFrame(form);
      if (frame && frame.fallback && image.src.indexOf(frame.fallback) === -1) {
        image.src = frame.fallback;
      } else {
        status.textContent = "No frame of this file to draw on: type the corners in the field instead.";
      }
    });

    open.addEventListener("click", () => {
      const frame = chosenFrame(form);
      if (!frame) {
        status.textContent = "Choose a video or still above first.";
        return;
      }
      corners = parse(input.value);
      image.src = frame.url;
    });
    canvas.addEventListener("click", (event) => {
      const rect = canvas.getBoundingClientRect();
      const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
      corners.push([round((event.clientX - rect.left) / rect.width), round((event.clientY - rect.top) / rect.height)]);
      changed();
    });
    undo.addEventListener("click", () => { corners.pop(); changed(); });
    clear.addEventListener("click", () => { corners = []; changed(); });
    input.addEventListener("change", () => { corners = parse(input.value); draw(); });
  }

  document.querySelectorAll("input[data-polygon]").forEach(enhance);
})();
