// The transcript beside its player: clicking a line seeks there; the line being spoken is marked and kept in view.
(() => {
  const root = document.querySelector("[data-transcript]");
  // The review player's <video> (templates/partials/player.html) carries the subtitles track.
  const player = root && root.querySelector("[data-transcript-player] video, video[data-transcript-player]");
  const list = root && root.querySelector("[data-transcript-lines]");
  if (!player || !list) return;
  const buttons = Array.from(list.querySelectorAll(".transcript__line"));
  const starts = buttons.map((b) => parseFloat(b.dataset.start));
  let current = null;
  list.addEventListener("click", (event) => {
    const button = event.target.closest(".transcript__line");
    if (!button) return;
    player.currentTime = parseFloat(button.dataset.start);
    const playing = player.play();
    if (playing && playing.catch) playing.catch(() => {});
  });
  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    let index = -1;
    for (let i = 0; i < starts.length && starts[i] <= t + 0.05; i += 1) index = i;
    const found = index >= 0 && t <= parseFloat(buttons[index].dataset.end) + 0.5 ? buttons[index] : null;
    if (found === current) return;
    if (current) current.removeAttribute("aria-current");
    current = found;
    if (current) {
      current.setAttribute("aria-current", "true");
      const top = current.offsetTop; // the list is positioned: offsets are inside it
      if (top < list.scrollTop || top + current.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = top - list.clientHeight / 3;
      }
    }
  });
})();
