/**
 * A progress bar on stderr for long file operations: shown only when stderr is a terminal (never
 * in pipes, logs or `--json` runs), redrawn at most ten times a second.
 */

/** Something that follows the progress of an operation. */
export interface Progress {
  /** Bytes done so far out of `total`. */
  update(done: number, total: number): void;
  /** Ends the bar's line. */
  finish(): void;
}

const WIDTH = 30;
const REDRAW_MS = 100;

/** Bytes as a short human figure: `512 B`, `1.5 KiB`, `1.00 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/**
 * A progress bar labelled `label`, or undefined when stderr is not a terminal.
 *
 * @example
 * const bar = progressBar('encrypting');
 * await encryptFile(a, b, recipient, { onProgress: (done, total) => bar?.update(done, total) });
 * bar?.finish();
 */
export function progressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress | undefined {
  if (!stream.isTTY) return undefined;
  const started = Date.now();
  let drawn = 0;
  let last = { done: 0, total: 0 };
  const draw = (): void => {
    const { done, total } = last;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * WIDTH);
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}`;
    const figures = `${formatBytes(done)}/${formatBytes(total)} ${formatBytes(done / seconds)}/s`;
    stream.write(`\r${label} [${bar}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${figures}\u001b[K`);
  };
  return {
    update(done, total) {
      last = { done, total };
      const now = Date.now();
      if (now - drawn < REDRAW_MS) return;
      drawn = now;
      draw();
    },
    finish() {
      draw();
      stream.write('\n');
    },
  };
}
