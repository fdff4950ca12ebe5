/* Greenlight feedback: timecoded notes on a video output, attachments through the assets upload, and the inbox's
 * "tick all". The pages work without it (the note's time is a number field, forms post normally); this adds:
 * - the note form follows the player: its time is the player's current time, and typing a note pauses the player;
 * - clicking a note's time seeks its player there;
 * - files chosen under "Attach files" go through the assets uploader (uploader.js) and are attached on completion.
 */
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  /* The same timecode as the server's `timecode` filter: HH:MM:SS:FF at the video's frame rate, else HH:MM:SS. */
  function timecode(seconds, fps) {
    seconds = Math.max(0, seconds || 0);
    if (fps > 0) {
      const frame = Math.floor(seconds * fps + 1e-6), base = Math.max(1, Math.round(fps));
      const whole = Math.floor(frame / base);
      return pad(Math.floor(whole / 3600)) + ":" + pad(Math.floor(whole / 60) % 60) + ":" + pad(whole % 60) + ":" + pad(frame % base);
    }
    const whole = Math.floor(seconds);
    return pad(Math.floor(whole / 3600)) + ":" + pad(Math.floor(whole / 60) % 60) + ":" + pad(whole % 60);
  }

  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- Player and notes --------------------------------------------------------------------------------------------
  function initPlayer(section) {
    const players = Array.prototype.slice.call(section.querySelectorAll("[data-review-player][data-output] video"));
    const outputOf = function (video) { return video.closest("[data-review-player]").dataset.output; };
    const form = section.querySelector("[data-note-form]");
    let current = players[0] || null;

    function sync(video) {
      if (!form || !video) return;
      current = video;
      const seconds = form.querySelector("[name=seconds]");
      const output = form.querySelector("[name=output]");
      seconds.value = video.currentTime.toFixed(3);
      if (output && output.tagName === "SELECT") output.value = outputOf(video);
      const tc = form.querySelector(".note-form__tc");
      if (tc) {
        const root = video.closest("[data-review-player]");
        tc.textContent = root && root.reviewPlayer ? root.reviewPlayer.tc(root.reviewPlayer.frame) : timecode(video.currentTime, 0);
      }
    }

    players.forEach(function (video) {
      ["timeupdate", "seeked", "pause", "play", "loadedmetadata"].forEach(function (type) {
        video.addEventListener(type, function () { sync(video); });
      });
    });

    // The review player (player.js) of the chosen output: its frame, in-out range and drawing go with the note.
    function reviewPlayer() {
      const output = form && form.querySelector("[name=output]");
      const id = output ? output.value : "";
      const root = section.querySelector('[data-review-player][data-output="' + id + '"]') || section.querySelector("[data-review-player]");
      return root && root.reviewPlayer;
    }

    if (form) {
      section.addEventListener("submit", function (e) {  // capture: runs before htmx reads the form
        if (e.target !== form) return;
        const p = reviewPlayer();
        if (!p) return;
        const useRange = form.querySelector("[data-note-range]").checked && p.markIn !== null && p.markOut !== null;
        form.querySelector("[name=frame]").value = String(useRange ? p.markIn : p.frame);
        form.querySelector("[name=frame_out]").value = useRange ? String(p.markOut) : "";
        form.querySelector("[name=drawing]").value = p.drawing.shapes.length ? JSON.stringify(p.drawing) : "";
      }, true);
      section.addEventListener("rp:drawing", function (e) {
        form.querySelector("[data-note-drawn]").hidden = !e.detail.drawing.shapes.length;
      });
      const text = form.querySelector("[name=text]");
      const pause = function () { if (current && !current.paused) current.pause(); };
      text.addEventListener("focus", pause);
      text.addEventListener("input", pause);
      const seconds = form.querySelector("[name=seconds]");
      seconds.addEventListener("change", function () {  // typing a time moves the player there
        const value = parseFloat(seconds.value);
        if (current && isFinite(value)) current.currentTime = value;
      });
      form.addEventListener("htmx:afterRequest", function (e) {
        if (e.detail.successful && !section.querySelector("#notes [role=alert]")) {
          const p = reviewPlayer();
          if (p) { p.clearDrawing(); p.loadNotes(); }
          text.value = "";
          text.focus();
        }
      });
    }

    // Clicking a note's time seeks its player (event delegation: the list is replaced after each change).
    section.addEventListener("click", function (e) {
      const button = e.target.closest("[data-seek]");
      if (!button) return;
      const target = players.find(function (v) { return outputOf(v) === button.dataset.output; }) || players[0];
      if (!target) return;
      const root = target.closest("[data-review-player]");
      if (root && root.reviewPlayer && button.dataset.frame !== "") {
        root.reviewPlayer.stop();
        root.reviewPlayer.seekFrame(Number(button.dataset.frame));
        root.querySelector(".rp__stage").focus();
      } else {
        target.currentTime = parseFloat(button.dataset.seek);
        target.pause();
        target.focus();
      }
      target.scrollIntoView({ block: "nearest" });
    });
  }

  // --- Attachments through the assets upload -----------------------------------------------------------------------
  function initAttach(box) {
    const input = box.querySelector("input[type=file]");
    const list = box.querySelector(".upload-list");
    if (!window.GreenlightUploader) return;

    function row(file) {
      const li = document.createElement("li");
      li.className = "upload-row";
      const name = document.createElement("strong");
      name.textContent = file.name;
      const state = document.createElement("span");
      state.className = "muted";
      state.textContent = " · starting…";
      li.append(name, state);
      list.prepend(li);
      return {
        progress: function (p) { state.textContent = " · " + p.stage + " " + p.percent + " %"; },
        note: function (text) { state.textContent = " · " + text; },
        finished: function (upload) {
          state.textContent = " · uploaded, attaching…";
          const body = new URLSearchParams({ asset_id: String(upload.asset_id) });
          fetch(box.dataset.attachUrl, {
            method: "POST", credentials: "same-origin", body: body,
            headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
          }).then(function (r) { return r.text(); }).then(function (html) {
            const old = document.getElementById("attachments");
            old.outerHTML = html;
            const fresh = document.getElementById("attachments");
            if (window.htmx) window.htmx.process(fresh);
            li.remove();
          }).catch(function () { state.textContent = " · uploaded, but not attached: reload and try again."; });
        },
        failed: function (error) {
          li.classList.add("upload-row--failed");
          state.textContent = " · not uploaded: " + error.message;
          state.setAttribute("role", "alert");
        },
      };
    }

    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (file) {
        const view = row(file);
        new window.GreenlightUploader.Upload(file, box.dataset.startUrl, view).start().catch(function (e) { view.failed(e); });
      });
      input.value = "";
    });
  }

  // --- Inbox: tick every report on the page ------------------------------------------------------------------------
  function initSelectAll(box) {
    const form = box.closest("form");
    box.addEventListener("change", function () {
      form.querySelectorAll("input[name=report]").forEach(function (c) { c.checked = box.checked; });
    });
  }

  document.querySelectorAll("[data-feedback-player]").forEach(initPlayer);
  document.querySelectorAll("[data-feedback-attach]").forEach(initAttach);
  document.querySelectorAll("[data-select-all]").forEach(initSelectAll);
  window.GreenlightFeedback = { timecode: timecode };
})();
