/** A progress bar on stderr: people loaded, resources/s and time left (a line per 5% when stderr is not a terminal). */
export class Progress {
  private readonly started = performance.now();
  private done: number;
  /** People and resources loaded by this run (not resumed). */
  private people = 0;
  private resources = 0;
  private lastStep = -1;

  constructor(
    private readonly total: number,
    already: number,
  ) {
    this.done = Math.min(already, total);
    this.draw();
  }

  advance(people: number, resources: number): void {
    this.done += people;
    this.people += people;
    this.resources += resources;
    this.draw();
  }

  finish(): void {
    this.draw(true);
    if (process.stderr.isTTY) process.stderr.write('\n');
  }

  private draw(force = false): void {
    const fraction = this.total ? this.done / this.total : 1;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = this.resources / Math.max(seconds, 0.001);
    const eta = this.people ? ((this.total - this.done) * seconds) / this.people : 0;
    const bar = '#'.repeat(Math.round(fraction * 30)).padEnd(30, '.');
    const line =
      `[${bar}] ${(fraction * 100).toFixed(1)}% ${this.done.toLocaleString('en-GB')}/` +
      `${this.total.toLocaleString('en-GB')} people, ${Math.round(rate).toLocaleString('en-GB')} resources/s, ` +
      `ETA ${Math.round(eta)} s`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line}   `);
      return;
    }
    const step = Math.floor(fraction * 20);
    if (step !== this.lastStep || force) {
      this.lastStep = step;
      process.stderr.write(`${line}\n`);
    }
  }
}
