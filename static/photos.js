// Photos chosen for a reply: previewed before sending, and refused before upload when there are
// too many, too large in all, or not a kind we send. The server checks again, always.
const PHOTO_LIMIT = 5;
const PHOTO_BYTES = 5 * 1024 * 1024;
const PHOTO_TYPES = ["image/jpeg", "image/png", "image/gif", "image/heic", "image/heif"];
const PHOTO_NAMES = /\.(jpe?g|png|gif|heic|heif)$/i;
const SHOWN_HERE = ["image/jpeg", "image/png", "image/gif"]; // browsers rarely show HEIC
const previewUrls = new Map(); // previews list id -> object URLs to release

function photoProblem(files) {
  if (files.length > PHOTO_LIMIT) return `Attach at most ${PHOTO_LIMIT} photos to one message.`;
  const odd = files.find((f) => !PHOTO_TYPES.includes(f.type) && !PHOTO_NAMES.test(f.name));
  if (odd) return `${odd.name} is not a JPEG, PNG, GIF or HEIC photo.`;
  const total = files.reduce((sum, f) => sum + f.size, 0);
  if (total > PHOTO_BYTES) {
    return `Photos can be 5 MB in total at most (what a text message carries); these are ${(total / 1048576).toFixed(1)} MB.`;
  }
  return "";
}

function showPreviews(list, files) {
  (previewUrls.get(list.id) || []).forEach((url) => URL.revokeObjectURL(url));
  const urls = [];
  list.replaceChildren(...files.map((file, n) => {
    const item = document.createElement("li");
    if (SHOWN_HERE.includes(file.type)) {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      urls.push(img.src);
      img.alt = `Photo ${n + 1}: ${file.name}`;
      item.append(img);
    } else {
      const box = document.createElement("span");
      box.className = "no-preview";
      box.textContent = file.name;
      item.append(box);
    }
    return item;
  }));
  previewUrls.set(list.id, urls);
  list.hidden = files.length === 0;
}

document.addEventListener("change", (event) => {
  const input = event.target.closest && event.target.closest("input[data-photo-input]");
  if (!input) return;
  const files = [...input.files];
  const problem = photoProblem(files);
  if (problem) input.value = ""; // nothing is uploaded; the words can still be sent
  const error = document.getElementById(input.dataset.photoError);
  if (error) { error.textContent = problem; error.hidden = !problem; }
  const list = document.getElementById(input.dataset.photoInput);
  if (list) showPreviews(list, problem ? [] : files);
});
