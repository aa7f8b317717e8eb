// Progress output for fit(): a live bar on a TTY (cli-progress), plain lines otherwise.

import cliProgress from 'cli-progress';
import { Callback, type Logs } from './callbacks.js';

export interface ProgressOptions {
  /** Keras verbosity: 0 silent, 1 progress bar, 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  epochs: number;
  stepsPerEpoch: number;
  /** Where to write; defaults to stderr for the bar and stdout for epoch lines. */
  stream?: NodeJS.WriteStream;
  /** Force TTY detection (tests). */
  isTTY?: boolean;
  /** Extra text on each epoch line (e.g. examples/s). */
  unit?: string;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

export function formatLogs(logs: Logs): string {
  return Object.entries(logs).map(([k, v]) => `${k}: ${fmt(v)}`).join(' - ');
}

/** Keras-like progress: `Epoch 1/5` then a bar with loss and metrics, then a summary line. */
export class ProgressBar extends Callback {
  private bar: cliProgress.SingleBar | null = null;
  private epochStart = 0;
  private lastPlain = 0;
  private readonly tty: boolean;
  private readonly out: NodeJS.WriteStream;
  constructor(private readonly opts: ProgressOptions) {
    super();
    this.out = opts.stream ?? process.stderr;
    this.tty = opts.isTTY ?? !!this.out.isTTY;
  }
  override onEpochBegin(epoch: number): void {
    this.epochStart = performance.now();
    this.lastPlain = this.epochStart;
    if (this.opts.verbose === 0) return;
    if (this.opts.verbose === 1 && this.tty) {
      this.out.write(`Epoch ${epoch + 1}/${this.opts.epochs}\n`);
      this.bar = new cliProgress.SingleBar({
        stream: this.out,
        format: ' {bar} {value}/{total} [{duration_formatted}<{eta_formatted}] {metrics}',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(this.opts.stepsPerEpoch, 0, { metrics: '' });
    }
  }
  override onBatchEnd(batch: number, logs: Logs): void {
    if (this.bar) {
      this.bar.update(batch + 1, { metrics: formatLogs(logs) });
    } else if (this.opts.verbose === 1) {
      // Not a terminal (CI, pipes): a plain line at most every 10 s so logs stay readable.
      const now = performance.now();
      if (now - this.lastPlain > 10_000) {
        this.lastPlain = now;
        this.out.write(`  step ${batch + 1}/${this.opts.stepsPerEpoch} - ${formatLogs(logs)}\n`);
      }
    }
  }
  override onEpochEnd(epoch: number, logs: Logs): void {
    if (this.opts.verbose === 0) return;
    const secs = (performance.now() - this.epochStart) / 1000;
    this.bar?.stop();
    this.bar = null;
    const line = `Epoch ${epoch + 1}/${this.opts.epochs} - ${secs.toFixed(1)}s - ${formatLogs(logs)}${this.opts.unit ?? ''}`;
    (this.opts.stream ?? process.stdout).write(line + '\n');
  }
  override onTrainEnd(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
