/* Greenlight compare: two review players (player.js) side by side, or in one frame with a wipe (a draggable,
 * keyboard-operable split line) or an onion-skin blend, or their difference. Play, pause, step and seek on either
 * drive both: the first player leads and the second follows it, held within one frame, offset by the difference of
 * their start timecodes (so the same source frame faces the same source frame).
 * Markup: templates/partials/compare.html ([data-compare] holding two .cmp__side, each with a player).
 */
import { initPlayers } from "./player.js";

function setup(root) {
  initPlayers(root);
  const [a, b] = Array.from(root.querySelectorAll("[data-review-player]")).map((el) => el.reviewPlayer);
  if (!a || !b) return;
  const status = root.querySelector(".cmp__status");
  const views = root.querySelector(".cmp__views");
  const sameTimecode = root.dataset.align !== "start";
  const offset = () => (sameTimecode && a.rate === b.rate ? a.start - b.start : 0);
  const target = () => Math.min(b.lastFrame, Math.max(0, a.frame + offset()));

  function follow() {
    const want = target();
    if (a.shuttle > 0) {
      if (b.shuttle !== a.shuttle) b.play(a.shuttle);
      if (Math.abs(b.frame - want) > 1) b.video.currentTime = (want + 0.5) / b.rate;  // drifted: catch up
    } else {
      if (b.shuttle !== 0) { clearInterval(b.reverseTimer); b.shuttle = 0; if (!b.video.paused) b.video.pause(); }
      if (b.frame !== want || b.pending !== null) b.seekFrame(want);
    }
    report();
  }

  function report() {
    if (!status) return;
    status.dataset.a = String(a.frame);
    status.dataset.b = String(b.frame);
    status.textContent = "Left frame " + a.frame + " · right frame " + b.frame;
  }

  a.root.addEventListener("rp:state", follow);
  a.root.addEventListener("rp:frame", follow);
  b.root.addEventListener("rp:state", report);
  b.root.addEventListener("rp:frame", report);
  // Keys and buttons on the second player act on the first, which leads.
  b.root.addEventListener("keydown", (e) => {
    if (e.target.matches("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (a.handleKey(e)) { e.preventDefault(); e.stopPropagation(); }
  }, true);
  b.root.querySelectorAll(".rp__bar [data-act]").forEach((el) => {
    if (el.tagName !== "BUTTON" || !["play", "back", "fwd"].includes(el.dataset.act)) return;
    el.addEventListener("click", (e) => {
      e.stopImmediatePropagation();
      ({ play: () => a.toggle(), back: () => a.step(-1), fwd: () => a.step(1) })[el.dataset.act]();
    }, true);
  });
  b.timeline && b.timeline.addEventListener("pointerdown", (e) => {
    e.stopImmediatePropagation();
    const box = b.timeline.getBoundingClientRect();
    a.stop();
    a.seekFrame((e.clientX - box.left) / box.width * b.lastFrame - offset());
  }, true);

  // Modes: side by side, wipe, onion skin, difference.
  const wipe = root.querySelector("[data-wipe]"), onion = root.querySelector("[data-onion]");
  function mode(value) {
    root.dataset.mode = value;
    root.querySelectorAll("[data-mode-part]").forEach((el) => { el.hidden = !el.dataset.modePart.split(" ").includes(value); });
    a.paintOverlay(); b.paintOverlay();
  }
  root.querySelectorAll("input[name=cmp-mode]").forEach((r) => r.addEventListener("change", () => mode(r.value)));
  const setWipe = (pct) => {
    pct = Math.min(100, Math.max(0, pct));
    views.style.setProperty("--wipe", pct + "%");
    wipe.value = String(Math.round(pct));
    wipe.setAttribute("aria-valuetext", Math.round(pct) + "% left media");
  };
  wipe.addEventListener("input", () => setWipe(Number(wipe.value)));
  onion.addEventListener("input", () => views.style.setProperty("--onion", String(Number(onion.value) / 100)));
  const line = root.querySelector(".cmp__line");
  line.addEventListener("pointerdown", (e) => {
    line.setPointerCapture(e.pointerId);
    const box = a.stage.getBoundingClientRect();
    const move = (m) => setWipe((m.clientX - box.left) / box.width * 100);
    line.addEventListener("pointermove", move);
    line.addEventListener("pointerup", () => line.removeEventListener("pointermove", move), { once: true });
  });
  line.addEventListener("keydown", (e) => {
    const step = e.shiftKey ? 10 : 2;
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      setWipe(Number(wipe.value) + (e.key === "ArrowLeft" ? -step : step));
      e.preventDefault(); e.stopPropagation();
    }
  });
  const placeLine = () => { line.style.top = a.stage.offsetTop + "px"; line.style.height = a.stage.offsetHeight + "px"; };
  new ResizeObserver(placeLine).observe(a.stage);
  setWipe(Number(wipe.value));
  mode(root.querySelector("input[name=cmp-mode]:checked").value);
  report();
  root.compare = { a, b, setWipe, mode };
}

document.querySelectorAll("[data-compare]").forEach(setup);
