import { writeFileAtomic } from "../core/io.ts";

/**
 * Where a command writes its text: stdout (`-` or no path), streamed in big
 * chunks; or a file, written atomically at the end so that a failure half-way
 * leaves no partial output file.
 */
export class Output {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly path: string | undefined) {}

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.toStdout && this.size > 1 << 16) this.flushStdout();
  }

  private get toStdout(): boolean {
    return this.path === undefined || this.path === "" || this.path === "-";
  }

  private flushStdout(): void {
    process.stdout.write(this.parts.join(""));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    if (this.toStdout) this.flushStdout();
    else writeFileAtomic(this.path!, this.parts.join(""));
  }
}
