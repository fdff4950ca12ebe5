/* Greenlight uploader: parallel, resumable multipart uploads.
 *
 * The same protocol in both modes: the portal opens the upload and hands out part URLs in batches;
 * the browser PUTs each part to its URL (S3 directly, or the portal's chunk endpoint in local mode),
 * several at once, retrying with backoff; then asks the portal to complete. After a network drop the
 * failed parts are retried; after a page reload, choosing the same file again resumes from the parts
 * already stored (the portal lists them), so nothing is sent twice.
 */
(function () {
  "use strict";
  const CONCURRENCY = 4;
  const MAX_TRIES = 8;
  const BATCH = 50;

  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function api(url, method, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const error = new Error(data.error || ("The portal answered " + response.status + "."));
      error.status = response.status;
      error.fatal = response.status >= 400 && response.status < 500;
      throw error;
    }
    return data;
  }

  function fingerprint(file) { return "gl-upload:" + file.name + ":" + file.size + ":" + file.lastModified; }

  function putPart(url, blob, local, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      if (local) xhr.setRequestHeader("X-CSRFToken", csrf());
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) onProgress(e.loaded); };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve((xhr.getResponseHeader("ETag") || "").replace(/"/g, ""));
        } else {
          const error = new Error("A part was refused (" + xhr.status + ").");
          error.status = xhr.status;
          reject(error);
        }
      };
      xhr.onerror = function () { reject(new Error("The network dropped.")); };
      xhr.send(blob);
    });
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function human(bytes) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return bytes.toFixed(i ? 1 : 0) + " " + units[i];
  }

  function duration(seconds) {
    if (!isFinite(seconds)) return "…";
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (h ? h + " h " : "") + (h || m ? m + " min " : "") + s + " s";
  }

  class Upload {
    constructor(file, startUrl, view) {
      this.file = file;
      this.startUrl = startUrl;
      this.view = view;
      this.done = new Map();      // part number -> {etag, size}
      this.inflight = new Map();  // part number -> bytes sent so far
      this.samples = [];
    }

    sent() {
      let total = 0;
      this.done.forEach(function (p) { total += p.size; });
      this.inflight.forEach(function (b) { total += b; });
      return Math.min(total, this.file.size);
    }

    report(stage) {
      const now = performance.now(), sent = this.sent();
      this.samples.push([now, sent]);
      while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
      const first = this.samples[0];
      const speed = now > first[0] ? (sent - first[1]) / ((now - first[0]) / 1000) : 0;
      this.view.progress({
        percent: this.file.size ? Math.floor(sent * 100 / this.file.size) : 100,
        sent: sent, speed: speed, left: speed > 0 ? (this.file.size - sent) / speed : Infinity, stage: stage,
      });
    }

    async start() {
      const key = fingerprint(this.file);
      const known = localStorage.getItem(key);
      this.state = null;
      if (known) {
        try {
          this.state = await api(JSON.parse(known).parts_url, "GET");
          this.state.parts.forEach((p) => this.done.set(p.part_number, { etag: p.etag, size: p.size }));
          this.view.note("Resuming: " + this.done.size + " of " + this.state.part_count + " parts already stored.");
          this.report("Resuming");
        } catch (e) {
          localStorage.removeItem(key);
          this.state = null;
          this.done.clear();
        }
      }
      if (!this.state) {
        this.state = await api(this.startUrl, "POST", {
          filename: this.file.name, size: this.file.size, content_type: this.file.type || "",
        });
        localStorage.setItem(key, JSON.stringify({ parts_url: this.state.parts_url }));
      }
      await this.sendParts();
      this.report("Joining the parts…");
      const result = await api(this.state.complete_url, "POST", {});
      localStorage.removeItem(key);
      this.view.finished(result);
    }

    async sendParts() {
      const size = this.state.part_size, count = this.state.part_count, local = this.state.mode === "local";
      const todo = [];
      for (let n = 1; n <= count; n++) {
        const expected = n < count ? size : this.file.size - size * (count - 1);
        const have = this.done.get(n);
        if (!have || have.size !== expected) { this.done.delete(n); todo.push(n); }
      }
      const urls = new Map();
      const fetchUrls = async (numbers) => {
        const data = await api(this.state.parts_url, "POST", { part_numbers: numbers });
        Object.keys(data.urls).forEach(function (k) { urls.set(Number(k), data.urls[k]); });
      };
      // One request brings the URLs of a whole batch; parallel workers wait for the same batch.
      const batches = new Map();
      const urlFor = async (n, index) => {
        if (urls.has(n)) return;
        if (!batches.has(n)) {
          const numbers = todo.slice(index, index + BATCH).filter((m) => !urls.has(m) && !batches.has(m));
          const batch = fetchUrls(numbers);
          numbers.forEach((m) => batches.set(m, batch));
        }
        try { await batches.get(n); } finally { batches.delete(n); }
      };
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          const index = next++;
          const n = todo[index];
          await urlFor(n, index);
          const blob = this.file.slice((n - 1) * size, Math.min(n * size, this.file.size));
          for (let attempt = 1; ; attempt++) {
            try {
              this.inflight.set(n, 0);
              const etag = await putPart(urls.get(n), blob, local, (loaded) => {
                this.inflight.set(n, loaded);
                this.report("Uploading");
              });
              this.inflight.delete(n);
              this.done.set(n, { etag: etag, size: blob.size });
              this.report("Uploading");
              break;
            } catch (e) {
              this.inflight.delete(n);
              if (attempt >= MAX_TRIES || (e.status && e.status >= 400 && e.status < 500 && e.status !== 403)) {
                throw e;
              }
              if (e.status === 403) await fetchUrls([n]);  // a presigned URL expired: get a fresh one
              this.view.note("Connection trouble; retrying part " + n + " (" + attempt + ")…");
              await sleep(Math.min(30000, 500 * 2 ** attempt));
            }
          }
        }
      };
      const workers = [];
      for (let i = 0; i < Math.min(CONCURRENCY, todo.length); i++) workers.push(worker());
      await Promise.all(workers);
    }
  }

  // After the bytes are in, the row follows verification live: htmx polls the asset's status partial (every 2 s)
  // until it is ready ("Run a tool on it", "Open") or rejected (with the reason). Without htmx, a link to the asset.
  function follow(li, state) {
    const region = document.createElement("div");
    region.className = "upload-row__follow";
    region.setAttribute("aria-live", "polite");
    const placeholder = document.createElement("div");
    placeholder.className = "upload-row__status";
    const link = document.createElement("a");
    link.href = state.detail_url;
    link.textContent = "Open";
    placeholder.appendChild(document.createTextNode("Verifying… "));
    placeholder.appendChild(link);
    region.appendChild(placeholder);
    li.appendChild(region);
    if (!window.htmx || !state.status_url) return;
    placeholder.setAttribute("hx-get", state.status_url + "?view=upload");
    placeholder.setAttribute("hx-trigger", "load");
    placeholder.setAttribute("hx-swap", "outerHTML");
    window.htmx.process(placeholder);
  }

  function rowFor(list, file) {
    const li = document.createElement("li");
    li.className = "upload-row";
    li.innerHTML =
      '<div class="upload-row__head"><strong class="upload-row__name"></strong> <span class="muted upload-row__size"></span></div>' +
      '<div class="progress"><div class="progress__bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0">' +
      '<div class="progress__fill" style="width:0%"></div></div>' +
      '<div class="progress__text"><span class="upload-row__stage">Starting…</span><span class="upload-row__numbers"></span></div></div>' +
      '<p class="upload-row__note muted" aria-live="polite"></p>';
    li.querySelector(".upload-row__name").textContent = file.name;
    li.querySelector(".upload-row__size").textContent = human(file.size);
    list.prepend(li);
    const bar = li.querySelector(".progress__bar"), fill = li.querySelector(".progress__fill");
    return {
      progress: function (p) {
        fill.style.width = p.percent + "%";
        bar.setAttribute("aria-valuenow", String(p.percent));
        bar.setAttribute("aria-label", file.name + " " + p.percent + "%");
        li.querySelector(".upload-row__stage").textContent = p.stage + " · " + p.percent + " %";
        li.querySelector(".upload-row__numbers").textContent =
          human(p.sent) + " of " + human(file.size) + " · " + human(p.speed) + "/s · " + duration(p.left) + " left";
      },
      note: function (text) { li.querySelector(".upload-row__note").textContent = text; },
      finished: function (state) {
        fill.style.width = "100%";
        bar.setAttribute("aria-valuenow", "100");
        li.querySelector(".upload-row__stage").textContent = "Uploaded · 100 %";
        li.querySelector(".upload-row__numbers").textContent = human(file.size);
        const note = li.querySelector(".upload-row__note");
        note.textContent = state.message || "";
        li.classList.add("upload-row--done");
        follow(li, state);
      },
      failed: function (error) {
        li.classList.add("upload-row--failed");
        li.querySelector(".upload-row__stage").textContent = "Not uploaded";
        const note = li.querySelector(".upload-row__note");
        note.textContent = error.message + (error.fatal ? "" : " Choose the same file again to resume.");
        note.setAttribute("role", "alert");
      },
    };
  }

  function init(form) {
    const input = form.querySelector("input[type=file]");
    const list = document.getElementById(form.dataset.list);
    const startUrl = form.dataset.startUrl;
    const go = function (files) {
      Array.prototype.forEach.call(files, function (file) {
        const view = rowFor(list, file);
        new Upload(file, startUrl, view).start().catch(function (e) { view.failed(e); });
      });
    };
    form.addEventListener("submit", function (e) { e.preventDefault(); go(input.files); input.value = ""; });
    input.addEventListener("change", function () { if (form.dataset.autostart !== undefined) { go(input.files); input.value = ""; } });
    const drop = form.querySelector(".dropzone");
    if (drop) {
      ["dragenter", "dragover"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("dropzone--over"); }); });
      ["dragleave", "drop"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("dropzone--over"); }); });
      drop.addEventListener("drop", function (e) { go(e.dataTransfer.files); });
    }
    // Files chosen while this script was still loading (a slow link, or a quick hand) fired their change event
    // before the listener above existed: start them now rather than leave the partner waiting on nothing.
    if (form.dataset.autostart !== undefined && input.files && input.files.length) { go(input.files); input.value = ""; }
    form.dataset.uploaderReady = "";
  }

  window.GreenlightUploader = { Upload: Upload, init: init };
  document.querySelectorAll("form[data-uploader]").forEach(init);
})();
