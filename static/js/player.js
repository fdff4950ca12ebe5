/* Greenlight review player: one frame-accurate player for every video and image the portal shows.
 *
 * Markup: templates/partials/player.html (a <figure data-review-player> with the exact frame rate as
 * data-rate-num/data-rate-den and the source start timecode as data-tc-start). Without JavaScript the <video> keeps its
 * native controls; with it, this module hides them and adds:
 * - the frame on screen (requestVideoFrameCallback's mediaTime where the browser has it, else currentTime x rate) and
 *   its source timecode, SMPTE as the tools write it (';' before the frames for drop-frame 29.97/59.94);
 * - frame steps that seek to frame centres ((n + 0.5) / rate), so a step never lands on the frame before;
 * - J/K/L shuttle (reverse is emulated by stepping), space, I/O marks and an in-out loop, speed, zoom, full screen,
 *   a timeline with a marker for every note, and keyboard help on "?";
 * - drawing on the paused frame (pen, arrow, rectangle, ellipse, text) in normalised 0..1 coordinates.
 * Each player is reachable as `element.reviewPlayer` (compare.js drives two of them in sync).
 */

const TOOLS = ["pen", "arrow", "rect", "ellipse", "text"];
const pad = (n) => String(n).padStart(2, "0");

// --- Timecode (the same arithmetic as beta/tools/dailies.py) ---------------------------------------------------------
export function rateBase(rate) { return Math.max(1, Math.floor(rate + 0.5)); }

export function timecodeToFrames(text, rate, drop) {
  const m = /^(\d{2}):(\d{2}):(\d{2})[:;.](\d{2})$/.exec(String(text || "").trim());
  if (!m) return 0;
  const [h, mi, s, f] = m.slice(1).map(Number);
  const base = rateBase(rate), dropped = drop ? Math.floor(base / 15) : 0;
  const minutes = h * 60 + mi;
  return (minutes * 60 + s) * base + f - dropped * (minutes - Math.floor(minutes / 10));
}

export function framesToTimecode(count, rate, drop) {
  const base = rateBase(rate), dropped = drop ? Math.floor(base / 15) : 0;
  count = Math.max(0, count);
  if (dropped) {
    const perTen = base * 600 - dropped * 9, perMinute = base * 60 - dropped;
    count %= perTen * 6 * 24;
    const tens = Math.floor(count / perTen), rest = count % perTen;
    count += dropped * 9 * tens + (rest > dropped ? dropped * Math.floor((rest - dropped) / perMinute) : 0);
  } else {
    count %= base * 86400;
  }
  const frames = count % base, seconds = Math.floor(count / base);
  return pad(Math.floor(seconds / 3600)) + ":" + pad(Math.floor(seconds / 60) % 60) + ":" + pad(seconds % 60) +
    (dropped ? ";" : ":") + pad(frames);
}

// --- Drawings (vector JSON, normalised coordinates; beta/review/drawing.py burns the same shapes in) ----------------
export function drawShapes(ctx, drawing, width, height) {
  const shapes = (drawing && drawing.shapes) || [];
  const line = Math.max(2, Math.round(height * 0.006));
  shapes.forEach((shape) => {
    const pts = (shape.points || []).map((p) => [p[0] * width, p[1] * height]);
    if (!pts.length) return;
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = shape.color || "#ff3b30";
    ctx.lineWidth = line;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    const [a, b] = [pts[0], pts[pts.length - 1]];
    if (shape.tool === "pen") {
      pts.forEach((p, i) => (i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1])));
      ctx.stroke();
    } else if (shape.tool === "arrow") {
      const angle = Math.atan2(b[1] - a[1], b[0] - a[0]), head = Math.max(10, height * 0.04);
      ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(b[0], b[1]);
      ctx.lineTo(b[0] - head * Math.cos(angle - 0.45), b[1] - head * Math.sin(angle - 0.45));
      ctx.lineTo(b[0] - head * Math.cos(angle + 0.45), b[1] - head * Math.sin(angle + 0.45));
      ctx.closePath(); ctx.fill();
    } else if (shape.tool === "rect") {
      ctx.strokeRect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
    } else if (shape.tool === "ellipse") {
      ctx.ellipse((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, Math.abs(b[0] - a[0]) / 2, Math.abs(b[1] - a[1]) / 2, 0, 0, 2 * Math.PI);
      ctx.stroke();
    } else if (shape.tool === "text") {
      ctx.font = "600 " + Math.max(12, Math.round(height * 0.05)) + "px sans-serif";
      ctx.textBaseline = "top";
      ctx.fillText(String(shape.text || "").slice(0, 200), a[0], a[1]);
    }
    ctx.restore();
  });
}

// --- The player --------------------------------------------------------------------------------------------------------
export class ReviewPlayer {
  constructor(root) {
    this.root = root;
    root.reviewPlayer = this;
    const d = root.dataset;
    this.kind = d.kind || "video";
    this.rate = Number(d.rateNum) / Number(d.rateDen || 1) || 25;
    this.drop = d.drop === "1";
    this.start = timecodeToFrames(d.tcStart, this.rate, this.drop);
    this.media = root.querySelector(".rp__media");
    this.video = this.kind === "video" ? this.media : null;
    this.zoomBox = root.querySelector(".rp__zoom");
    this.overlay = root.querySelector(".rp__overlay");
    this.ui = root.querySelector(".rp__ui");
    this.timeline = root.querySelector(".rp__timeline");
    this.frame = 0;            // the frame on screen (or being sought)
    this.presented = null;     // the frame the compositor last presented (requestVideoFrameCallback)
    this.pending = null;       // a frame a seek is on its way to
    this.shuttle = 0;          // playback speed: > 0 forward, < 0 reverse (emulated), 0 stopped
    this.markIn = null;
    this.markOut = null;
    this.loop = false;
    this.loopCount = 0;
    this.notes = [];
    this.drawing = { v: 1, shapes: [] };
    this.drawMode = false;
    this.tool = "pen";
    this.color = "#ff3b30";
    this.lastFrameCount = Number(d.frames) || 1;
    this.ui.hidden = false;
    if (this.video) this.video.removeAttribute("controls");
    this.stage = root.querySelector(".rp__stage");
    this.stage.tabIndex = 0;
    this.stage.setAttribute("aria-label", "Picture. Keyboard: space plays, arrows step frames, ? lists the shortcuts.");
    this.bindControls();
    this.bindKeys();
    this.bindTimeline();
    this.bindDrawing();
    if (this.video) this.bindVideo();
    else this.media.addEventListener("load", () => this.fitMedia(this.media.naturalWidth, this.media.naturalHeight));
    if (this.media.complete && this.media.naturalWidth) this.fitMedia(this.media.naturalWidth, this.media.naturalHeight);
    new ResizeObserver(() => this.paintOverlay()).observe(this.zoomBox);
    if (d.notesUrl) this.loadNotes();
    this.update();
  }

  get lastFrame() { return Math.max(0, this.lastFrameCount - 1); }
  get playing() { return this.shuttle !== 0; }

  fitMedia(w, h) {
    if (w && h) this.zoomBox.style.aspectRatio = w + " / " + h;
    this.paintOverlay();
  }

  // Frames and seeking ------------------------------------------------------------------------------------------------
  bindVideo() {
    const v = this.video;
    v.addEventListener("loadedmetadata", () => {
      if (isFinite(v.duration) && v.duration > 0) this.lastFrameCount = Math.max(1, Math.round(v.duration * this.rate));
      this.fitMedia(v.videoWidth, v.videoHeight);
      if (this.timeline) this.timeline.setAttribute("aria-valuemax", String(this.lastFrame));
      this.renderMarkers();
      this.update();
    });
    v.addEventListener("seeked", () => {
      if (!this.hasRVFC) { this.frame = this.fromTime(); this.pending = null; }
      this.update();
    });
    v.addEventListener("timeupdate", () => {
      if (!this.hasRVFC && !v.paused) { this.frame = this.fromTime(); this.onFrame(); }
    });
    v.addEventListener("ended", () => { this.shuttle = 0; this.update(); });
    this.hasRVFC = "requestVideoFrameCallback" in HTMLVideoElement.prototype;
    if (this.hasRVFC) {
      const tick = (now, meta) => {
        this.presented = Math.max(0, Math.round(meta.mediaTime * this.rate));
        // A frame presented while a seek is in flight is stale unless it is the one sought.
        if (this.pending === null || this.presented === this.pending || !v.seeking) {
          this.pending = null;
          this.frame = this.presented;
          this.onFrame();
        }
        v.requestVideoFrameCallback(tick);
      };
      v.requestVideoFrameCallback(tick);
    }
  }

  fromTime() { return Math.min(this.lastFrame, Math.max(0, Math.floor(this.video.currentTime * this.rate + 1e-4))); }

  seekFrame(n) {
    if (!this.video) return;
    n = Math.min(this.lastFrame, Math.max(0, Math.round(n)));
    this.frame = n;
    this.pending = this.hasRVFC && n !== this.presented ? n : null;
    this.video.currentTime = (n + 0.5) / this.rate;
    this.update();
  }

  step(k) {
    if (!this.video) return;
    if (this.playing) this.stop();
    this.seekFrame(this.frame + k);
  }

  onFrame() {
    const v = this.video;
    if (this.loop && this.shuttle > 0) {
      const [a, b] = this.range();
      if (this.frame > b || this.frame < a) { this.loopCount += 1; this.seekFrame(a); }
    }
    this.update();
    this.root.dispatchEvent(new CustomEvent("rp:frame", { detail: { frame: this.frame, playing: !v.paused } }));
  }

  range() {
    return [this.markIn ?? 0, this.markOut ?? this.lastFrame];
  }

  // Transport ----------------------------------------------------------------------------------------------------------
  play(speed) {
    if (!this.video) return;
    clearInterval(this.reverseTimer);
    speed = speed || Number(this.root.querySelector("[data-act=speed]").value) || 1;
    this.shuttle = speed;
    if (this.loop) {
      const [a, b] = this.range();
      if (this.frame < a || this.frame >= b) this.seekFrame(a);
    }
    this.pending = null;
    this.video.playbackRate = speed;
    this.video.play().catch(() => { this.shuttle = 0; this.update(); });
    this.update();
  }

  reverse(speed) {
    if (!this.video) return;
    this.video.pause();
    clearInterval(this.reverseTimer);
    this.shuttle = -speed;
    let last = performance.now(), owed = 0;
    this.reverseTimer = setInterval(() => {
      const now = performance.now();
      owed += (now - last) / 1000 * this.rate * speed;
      last = now;
      if (this.video.seeking || owed < 1) return;
      const back = Math.floor(owed);
      owed -= back;
      let target = this.frame - back;
      const [a, b] = this.range();
      if (this.loop && target < a) { target = b; this.loopCount += 1; }
      if (target <= 0 && !this.loop) { this.seekFrame(0); this.stop(); return; }
      this.seekFrame(target);
    }, Math.max(10, 1000 / (this.rate * speed)));
    this.update();
  }

  stop() {
    clearInterval(this.reverseTimer);
    this.shuttle = 0;
    if (this.video && !this.video.paused) {
      this.video.pause();
      let at = this.hasRVFC && this.presented !== null ? this.presented : this.fromTime();
      const [a, b] = this.range();
      if (this.loop && (at < a || at > b)) at = a;  // a loop never stops outside its range
      this.seekFrame(at);
    }
    this.update();
  }

  toggle() { if (this.playing) this.stop(); else this.play(); }
  shuttleForward() { this.play(this.shuttle > 0 ? Math.min(4, this.shuttle * 2) : 1); }
  shuttleReverse() { this.reverse(this.shuttle < 0 ? Math.min(4, -this.shuttle * 2) : 1); }

  mark(which) {
    if (which === "in") {
      this.markIn = this.frame;
      if (this.markOut !== null && this.markOut < this.markIn) this.markOut = null;
    } else {
      this.markOut = this.frame;
      if (this.markIn !== null && this.markIn > this.markOut) this.markIn = null;
    }
    this.update();
  }

  tc(frame) { return framesToTimecode(this.start + frame, this.rate, this.drop); }

  // Display ------------------------------------------------------------------------------------------------------------
  update() {
    const r = this.root;
    r.dataset.frame = String(this.frame);
    r.dataset.presented = this.presented === null ? "" : String(this.presented);
    r.dataset.playing = this.playing ? "1" : "0";
    r.dataset.loops = String(this.loopCount);
    const frameOut = r.querySelector(".rp__frame");
    if (frameOut) frameOut.textContent = String(this.frame);
    const tcOut = r.querySelector(".rp__tc");
    if (tcOut) tcOut.textContent = this.tc(this.frame);
    const play = r.querySelector("[data-act=play]");
    if (play) {
      play.setAttribute("aria-pressed", String(this.playing));
      play.textContent = this.playing ? "❚❚" : "▶";
      play.setAttribute("aria-label", this.playing ? "Pause (space)" : "Play (space)");
    }
    const loop = r.querySelector("[data-act=loop]");
    if (loop) loop.setAttribute("aria-pressed", String(this.loop));
    const io = r.querySelector(".rp__inout");
    if (io) {
      io.textContent = (this.markIn !== null ? "In " + this.tc(this.markIn) : "") +
        (this.markOut !== null ? " Out " + this.tc(this.markOut) : "");
    }
    if (this.timeline) {
      const span = Math.max(1, this.lastFrame);
      this.timeline.setAttribute("aria-valuenow", String(this.frame));
      this.timeline.setAttribute("aria-valuetext", "Frame " + this.frame + ", " + this.tc(this.frame));
      this.timeline.querySelector(".rp__head").style.left = (this.frame / span * 100) + "%";
      const bar = this.timeline.querySelector(".rp__range");
      bar.hidden = this.markIn === null && this.markOut === null;
      const [a, b] = this.range();
      bar.style.left = (a / span * 100) + "%";
      bar.style.width = (Math.max(0, b - a) / span * 100) + "%";
    }
    this.paintOverlay();
    r.dispatchEvent(new CustomEvent("rp:state", { detail: { frame: this.frame, shuttle: this.shuttle } }));
  }

  paintOverlay() {
    const c = this.overlay, box = this.zoomBox.getBoundingClientRect();
    const w = Math.max(1, Math.round(box.width)), h = Math.max(1, Math.round(box.height));
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const ctx = c.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    if (!this.playing || this.drawMode) {
      this.notesHere().forEach((note) => drawShapes(ctx, note.drawing, w, h));
    }
    if (this.drawMode) drawShapes(ctx, this.drawing, w, h);
    if (this.draft) drawShapes(ctx, { shapes: [this.draft] }, w, h);
  }

  notesHere() {
    return this.notes.filter((n) => n.drawing && n.frame !== null &&
      this.frame >= n.frame && this.frame <= (n.frame_out ?? n.frame));
  }

  // Notes on the timeline ----------------------------------------------------------------------------------------------
  async loadNotes() {
    try {
      const response = await fetch(this.root.dataset.notesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const output = this.root.dataset.output;
      const notes = (await response.json()).notes || [];
      this.setNotes(output ? notes.filter((n) => n.output === null || String(n.output) === output) : notes);
    } catch (e) { /* the notes list on the page still works */ }
  }

  setNotes(notes) {
    this.notes = notes;
    this.renderMarkers();
    this.paintOverlay();
    this.root.dispatchEvent(new CustomEvent("rp:notes", { detail: { notes } }));
  }

  renderMarkers() {
    if (!this.timeline) return;
    const box = this.timeline.querySelector(".rp__markers");
    box.replaceChildren();
    const span = Math.max(1, this.lastFrame);
    this.notes.filter((n) => n.frame !== null).forEach((note) => {
      const b = document.createElement("button");
      b.type = "button";
      const side = note.side === "staff" ? "staff" : "studio";
      b.className = "rp__marker rp__marker--" + side + (note.frame_out !== null && note.frame_out !== undefined ? " rp__marker--range" : "");
      b.style.left = (note.frame / span * 100) + "%";
      if (note.frame_out !== null && note.frame_out !== undefined) b.style.width = ((note.frame_out - note.frame) / span * 100) + "%";
      b.textContent = side === "staff" ? "S" : "P";  // the non-colour cue: a letter (and a shape in the CSS)
      const who = (side === "staff" ? "AI Studio: " : "Studio: ") + (note.author || "");
      const at = this.tc(note.frame) + (note.frame_out != null ? "–" + this.tc(note.frame_out) : "");
      b.setAttribute("aria-label", "Note at " + at + " by " + who + ": " + note.text);
      b.dataset.noteId = String(note.id);
      b.addEventListener("click", (e) => { e.stopPropagation(); this.stop(); this.seekFrame(note.frame); });
      const show = () => this.tip(at + " · " + who + " — " + note.text, b);
      b.addEventListener("mouseenter", show);
      b.addEventListener("focus", show);
      b.addEventListener("mouseleave", () => this.tip(""));
      b.addEventListener("blur", () => this.tip(""));
      box.append(b);
    });
  }

  tip(text, anchor) {
    const tip = this.root.querySelector(".rp__tip");
    tip.hidden = !text;
    tip.textContent = text;
    if (anchor) tip.style.left = anchor.style.left;
  }

  // Controls -----------------------------------------------------------------------------------------------------------
  bindControls() {
    const r = this.root;
    const on = (act, fn) => { const el = r.querySelector("[data-act=" + act + "]"); if (el) el.addEventListener(el.tagName === "SELECT" ? "change" : "click", fn); };
    on("play", () => this.toggle());
    on("back", () => this.step(-1));
    on("fwd", () => this.step(1));
    on("in", () => this.mark("in"));
    on("out", () => this.mark("out"));
    on("loop", () => { this.loop = !this.loop; this.update(); });
    on("mute", () => this.toggleMute());
    on("speed", (e) => { if (this.shuttle > 0) this.play(Number(e.target.value)); });
    on("zoom", (e) => this.setZoom(Number(e.target.value)));
    on("full", () => this.fullscreen());
    on("help", () => this.help());
  }

  toggleMute() {
    if (!this.video) return;
    this.video.muted = !this.video.muted;
    const b = this.root.querySelector("[data-act=mute]");
    b.setAttribute("aria-pressed", String(this.video.muted));
    b.textContent = this.video.muted ? "Muted" : "Sound";
  }

  setZoom(z) {
    this.zoomBox.style.width = (z * 100) + "%";
    this.root.classList.toggle("rp--zoomed", z > 1);
    this.paintOverlay();
  }

  fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (this.root.requestFullscreen) this.root.requestFullscreen().catch(() => {});
  }

  help() {
    const dialog = this.root.querySelector(".rp__help");
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  bindKeys() {
    this.root.addEventListener("keydown", (e) => {
      const t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey || t.closest("dialog")) return;
      if (t.matches("input, textarea, select, [contenteditable]")) return;
      if (this.handleKey(e)) { e.preventDefault(); e.stopPropagation(); }
    });
  }

  handleKey(e) {
    const n = e.shiftKey ? 10 : 1, key = e.key.toLowerCase();
    if (e.key === "?") { this.help(); return true; }
    if (e.key === "Escape" && this.drawMode) { this.setDrawMode(false); return true; }
    if (!this.video) return key === "f" ? (this.fullscreen(), true) : false;
    if (e.key === " ") { this.toggle(); return true; }
    if (e.key === "ArrowLeft" || e.code === "Comma") { this.step(-n); return true; }
    if (e.key === "ArrowRight" || e.code === "Period") { this.step(n); return true; }
    if (e.key === "Home") { this.step(-this.frame); return true; }
    if (e.key === "End") { this.step(this.lastFrame - this.frame); return true; }
    const acts = {
      j: () => this.shuttleReverse(), k: () => this.stop(), l: () => this.shuttleForward(),
      i: () => this.mark("in"), o: () => this.mark("out"), "\\": () => { this.loop = !this.loop; this.update(); },
      f: () => this.fullscreen(), m: () => this.toggleMute(),
    };
    if (acts[key]) { acts[key](); return true; }
    return false;
  }

  bindTimeline() {
    const tl = this.timeline;
    if (!tl) return;
    const seek = (e) => {
      const box = tl.getBoundingClientRect();
      this.stop();
      this.seekFrame((e.clientX - box.left) / box.width * this.lastFrame);
    };
    tl.addEventListener("pointerdown", (e) => {
      if (e.target.closest(".rp__marker")) return;
      tl.setPointerCapture(e.pointerId);
      seek(e);
      const move = (m) => seek(m);
      tl.addEventListener("pointermove", move);
      tl.addEventListener("pointerup", () => tl.removeEventListener("pointermove", move), { once: true });
    });
  }

  // Drawing on the paused frame ------------------------------------------------------------------------------------------
  bindDrawing() {
    const r = this.root, toggle = r.querySelector("[data-act=draw]");
    if (!toggle) return;
    toggle.addEventListener("click", () => this.setDrawMode(!this.drawMode));
    r.querySelectorAll("[data-tool]").forEach((b) => b.addEventListener("click", () => {
      this.tool = b.dataset.tool;
      r.querySelectorAll("[data-tool]").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
    }));
    r.querySelector("[data-act=color]").addEventListener("change", (e) => { this.color = e.target.value; });
    r.querySelector("[data-act=undo]").addEventListener("click", () => { this.drawing.shapes.pop(); this.changed(); });
    r.querySelector("[data-act=clear]").addEventListener("click", () => { this.drawing.shapes = []; this.changed(); });
    const c = this.overlay;
    const at = (e) => {
      const box = c.getBoundingClientRect();
      const clamp = (x) => Math.round(Math.min(1, Math.max(0, x)) * 10000) / 10000;
      return [clamp((e.clientX - box.left) / box.width), clamp((e.clientY - box.top) / box.height)];
    };
    c.addEventListener("pointerdown", (e) => {
      if (!this.drawMode) return;
      e.preventDefault();
      c.setPointerCapture(e.pointerId);
      if (this.tool === "text") {
        const text = (r.querySelector(".rp__textval") || {}).value || window.prompt("Text on the frame") || "";
        if (text.trim()) { this.drawing.shapes.push({ tool: "text", color: this.color, points: [at(e)], text: text.trim().slice(0, 200) }); this.changed(); }
        return;
      }
      this.draft = { tool: this.tool, color: this.color, points: [at(e), at(e)] };
      this.paintOverlay();
    });
    c.addEventListener("pointermove", (e) => {
      if (!this.draft) return;
      if (this.draft.tool === "pen") { if (this.draft.points.length < 500) this.draft.points.push(at(e)); }
      else this.draft.points[1] = at(e);
      this.paintOverlay();
    });
    c.addEventListener("pointerup", () => {
      if (!this.draft) return;
      if (this.drawing.shapes.length < 50) this.drawing.shapes.push(this.draft);
      this.draft = null;
      this.changed();
    });
  }

  setDrawMode(on) {
    if (on) this.stop();
    this.drawMode = on;
    this.root.classList.toggle("rp--drawing", on);
    const toggle = this.root.querySelector("[data-act=draw]");
    toggle.setAttribute("aria-pressed", String(on));
    this.root.querySelector(".rp__tools").hidden = !on;
    this.paintOverlay();
  }

  changed() {
    this.paintOverlay();
    this.root.dispatchEvent(new CustomEvent("rp:drawing", { detail: { drawing: this.drawing } }));
  }

  clearDrawing() { this.drawing = { v: 1, shapes: [] }; this.setDrawMode(false); this.changed(); }
}

export function initPlayers(scope) {
  (scope || document).querySelectorAll("[data-review-player]").forEach((el) => {
    if (!el.reviewPlayer) new ReviewPlayer(el);
  });
}

initPlayers(document);
document.addEventListener("htmx:afterSwap", (e) => initPlayers(e.target));
window.GreenlightPlayer = { ReviewPlayer, initPlayers, framesToTimecode, timecodeToFrames, drawShapes };
