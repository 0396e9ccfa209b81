// QA call page: choose the recording's leg, click a transcript line to play from
// there, follow the playing line.  Times in the transcript are seconds from the
// start of the call's recording; a leg that starts later (the agent's, from the
// moment the agent answered) carries its offset in data-offset.
(function () {
  "use strict";
  const audio = document.getElementById("qa-audio");
  const transcript = document.getElementById("qa-transcript");
  if (!audio) return;
  const offset = () => parseFloat(audio.dataset.offset || "0") || 0;

  function seekTo(callSeconds, play) {
    const go = () => {
      audio.currentTime = Math.max(0, callSeconds - offset());
      if (play) audio.play().catch(() => {});
    };
    if (audio.readyState >= 1) go();
    else audio.addEventListener("loadedmetadata", go, { once: true });
  }

  document.querySelectorAll('input[name="leg"]').forEach((radio) => {
    radio.addEventListener("change", () => {
      if (!radio.checked) return;
      const at = audio.currentTime + offset();
      const playing = !audio.paused;
      audio.dataset.offset = radio.dataset.offset || "0";
      audio.src = radio.dataset.url;
      audio.load();
      seekTo(at, playing);
    });
  });

  if (!transcript) return;
  const buttons = Array.from(transcript.querySelectorAll("button[data-at]"));
  buttons.forEach((button, index) => {
    button.addEventListener("click", () => seekTo(parseFloat(button.dataset.at), true));
    button.addEventListener("keydown", (event) => {
      const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      const next = buttons[index + step];
      if (next) next.focus();
    });
  });

  audio.addEventListener("timeupdate", () => {
    const now = audio.currentTime + offset();
    let current = null;
    for (const button of buttons) {
      if (parseFloat(button.dataset.at) <= now + 0.05) current = button;
    }
    buttons.forEach((b) => b.classList.toggle("qa-playing", b === current));
  });
})();
