// Progress output, one display for every run: a live bar on a terminal (cli-progress), plain lines
// otherwise. Keras fit shows a bar per epoch and then the epoch's line; runs counted in steps
// (`train gpt`, `finetune`) show one bar over the run through showStep.

import cliProgress from 'cli-progress';
import { Callback, type Logs } from './callbacks.js';

/** Options of {@link ProgressBar}. */
export interface ProgressOptions {
  /** Keras verbosity: 0 silent, 1 progress bar, 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Epochs of a Keras-style run (the lines say `Epoch i/epochs`). */
  epochs?: number;
  /** Batches per epoch (the bar's length). */
  stepsPerEpoch?: number;
  /** Where to write; defaults to stderr for the bar and in-epoch lines, stdout for epoch and step lines. */
  stream?: NodeJS.WriteStream;
  /** Force TTY detection (tests). */
  isTTY?: boolean;
  /** Extra text on each epoch line (e.g. examples/s). */
  unit?: string;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

/** Logs as `loss: 0.1234 - accuracy: 0.9812`. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${fmt(v)}`)
    .join(' - ');
}

/** Without a terminal, a progress line at most this often, so logs stay readable. */
const PLAIN_LINE_MS = 10_000;

/**
 * Keras-like progress: `Epoch 1/5` then a bar with loss and metrics, then a summary line; or, for a
 * run counted in steps, one bar (`showStep`) that `pause` takes off the terminal before other output.
 */
export class ProgressBar extends Callback {
  private bar: cliProgress.SingleBar | null = null;
  private epochStart = 0;
  private lastPlain = 0;
  private readonly tty: boolean;
  private readonly out: NodeJS.WriteStream;
  constructor(private readonly opts: ProgressOptions = {}) {
    super();
    this.out = opts.stream ?? process.stderr;
    this.tty = opts.isTTY ?? !!this.out.isTTY;
  }

  /** The bar at `value` of `total` with this text after it, started when not showing. */
  private draw(value: number, total: number, text: string): void {
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.out,
          format: ' {bar} {value}/{total} [{duration_formatted}<{eta_formatted}] {metrics}',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, value, { metrics: text });
    }
    this.bar.update(value, { metrics: text });
  }

  /**
   * Step `step` of `total` with its fields (`loss 2.1042`, `900 tok/s`): the bar on a terminal,
   * else a line `step 40/2000 - loss 2.1042 - 900 tok/s` every 10 s and at the last step.
   */
  showStep(step: number, total: number, fields: string[]): void {
    if (this.opts.verbose === 0) return;
    if (this.tty) this.draw(step, total, fields.join(' - '));
    else if (performance.now() - this.lastPlain > PLAIN_LINE_MS || step === total) {
      this.lastPlain = performance.now();
      (this.opts.stream ?? process.stdout).write(`step ${step}/${total} - ${fields.join(' - ')}\n`);
    }
  }

  /** Take the bar off the terminal (before other output); the next update shows it again. */
  pause(): void {
    this.bar?.stop();
    this.bar = null;
  }

  override onEpochBegin(epoch: number): void {
    this.epochStart = performance.now();
    this.lastPlain = this.epochStart;
    if (this.opts.verbose === 0) return;
    if (this.opts.verbose === 1 && this.tty) {
      this.out.write(`Epoch ${epoch + 1}/${this.opts.epochs}\n`);
      this.draw(0, this.opts.stepsPerEpoch ?? 0, '');
    }
  }
  override onBatchEnd(batch: number, logs: Logs): void {
    if (this.bar) {
      this.draw(batch + 1, this.opts.stepsPerEpoch ?? 0, formatLogs(logs));
    } else if (this.opts.verbose === 1) {
      // Not a terminal (CI, pipes): a plain line at most every 10 s so logs stay readable.
      const now = performance.now();
      if (now - this.lastPlain > PLAIN_LINE_MS) {
        this.lastPlain = now;
        this.out.write(`  step ${batch + 1}/${this.opts.stepsPerEpoch} - ${formatLogs(logs)}\n`);
      }
    }
  }
  override onEpochEnd(epoch: number, logs: Logs): void {
    if (this.opts.verbose === 0) return;
    const secs = (performance.now() - this.epochStart) / 1000;
    this.pause();
    const line = `Epoch ${epoch + 1}/${this.opts.epochs} - ${secs.toFixed(1)}s - ${formatLogs(logs)}${this.opts.unit ?? ''}`;
    (this.opts.stream ?? process.stdout).write(line + '\n');
  }
  override onTrainEnd(): void {
    this.pause();
  }
}
