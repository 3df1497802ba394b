/**
 * A one-line progress bar on stderr when it is a terminal, with the rate
 * (items/s) and the time left; silent otherwise (then callers print one
 * summary line per epoch instead).
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;
  private start = 0;
  private startDone = 0;

  private readonly label: string;
  private readonly unit: string;

  constructor(label: string, unit = "sentences") {
    this.label = label;
    this.unit = unit;
  }

  update(done: number, total: number, note = ""): void {
    if (!this.tty) return;
    const now = Date.now();
    // a new pass (done went back) restarts the clock of the rate
    if (this.start === 0 || done < this.startDone) {
      this.start = now;
      this.startDone = done;
    }
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    process.stderr.write(
      `\r${progressLine(this.label, done - this.startDone, done, total, (now - this.start) / 1000, this.unit, note)}\x1b[K`,
    );
  }

  done(): void {
    if (this.tty) process.stderr.write("\r\x1b[K");
    this.start = 0;
  }

  get interactive(): boolean {
    return this.tty;
  }
}

/** The text of a progress line: bar, percent, rate and time left (`made` items in `seconds`). */
export function progressLine(
  label: string,
  made: number,
  done: number,
  total: number,
  seconds: number,
  unit: string,
  note: string,
): string {
  const width = 30;
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const fill = Math.round(frac * width);
  const bar = "█".repeat(fill) + "░".repeat(width - fill);
  const rate = seconds > 0 ? made / seconds : 0;
  const eta = rate > 0 ? ` ETA ${clock((total - done) / rate)}` : "";
  const speed = rate > 0 ? ` ${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} ${unit}/s` : "";
  return `${label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%${speed}${eta} ${note}`.trimEnd();
}

function clock(s: number): string {
  const t = Math.max(0, Math.round(s));
  const m = Math.floor(t / 60);
  return m > 0 ? `${m}m${String(t % 60).padStart(2, "0")}s` : `${t}s`;
}
