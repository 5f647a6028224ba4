// Hold the button: up to data.frames frames, data.perSecond a second, each the video's centre
// square scaled to data.side pixels and sent as a JPEG data URL, all at once when released.
export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const video = parentElement.querySelector("video");
  const start = parentElement.querySelector(".start");
  const hold = parentElement.querySelector(".hold");
  const status = parentElement.querySelector(".status");
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = data.side;
  let frames = [], timer = null, stream = null;

  function grab() {
    const side = Math.min(video.videoWidth, video.videoHeight);
    if (!side) return;
    const context = canvas.getContext("2d");
    context.drawImage(video, (video.videoWidth - side) / 2, (video.videoHeight - side) / 2, side, side,
                      0, 0, data.side, data.side);
    frames.push(canvas.toDataURL("image/jpeg", data.quality));
    status.textContent = `${frames.length} of ${data.frames} frames`;
    if (frames.length >= data.frames) finish();
  }
  function begin(event) {
    event.preventDefault();
    if (timer || hold.disabled) return;
    frames = [];
    grab();
    timer = setInterval(grab, 1000 / data.perSecond);
  }
  function finish() {
    if (!timer) return;
    clearInterval(timer);
    timer = null;
    if (frames.length) {
      status.textContent = `Sent ${frames.length} frames`;
      setTriggerValue("frames", frames);
    }
  }
  start.onclick = async () => {
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("insecure");
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      video.srcObject = stream;
      video.style.display = "block";
      await video.play();
      hold.disabled = false;
      start.style.display = "none";
      status.textContent = `Hold to take up to ${data.frames} frames`;
    } catch (error) {
      status.textContent = data.blocked;
    }
  };
  hold.addEventListener("pointerdown", begin);
  hold.addEventListener("pointerup", finish);
  hold.addEventListener("pointerleave", finish);
  hold.addEventListener("keydown", (event) => { if (event.key === " " || event.key === "Enter") begin(event); });
  hold.addEventListener("keyup", finish);
  return () => {
    if (timer) clearInterval(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
  };
}
