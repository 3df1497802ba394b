/**
 * A one-line progress bar on stderr when it is a terminal; silent otherwise
 * (then callers print one summary line per epoch instead).
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;

  constructor(private readonly label: string) {}

  update(done: number, total: number, note = ""): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const width = 30;
    const frac = total > 0 ? done / total : 1;
    const fill = Math.round(frac * width);
    const bar = "█".repeat(fill) + "░".repeat(width - fill);
    process.stderr.write(
      `\r${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${note}\x1b[K`,
    );
  }

  done(): void {
    if (this.tty) process.stderr.write("\r\x1b[K");
  }

  get interactive(): boolean {
    return this.tty;
  }
}
