/**
 * A file the page made, handed to the browser as a download: a Blob behind an `<a download>`. The same in the served
 * mode (the browser saves it, or asks where) and in Electron, whose main process lets only the app's own `blob:`
 * downloads through and shows its save dialog (src-main/index.ts, `will-download`).
 */

/** How long the blob's URL stays valid after the click: the browser has begun reading it long before. */
const REVOKE_AFTER_MS = 10_000;

/** Starts the download of `text` as `fileName` with the media type `mediaType` (UTF-8). */
export function downloadText(fileName: string, text: string, mediaType: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${mediaType};charset=utf-8` }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers; a little later frees the blob all the same.
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}
