// The nabla command line: train and evaluate models, show what the runtime found.

import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { trainMnist, evalMnist, MNIST_DEFAULTS, MNIST_EPOCHS, MNIST_MODELS, describeMnistModel, type MnistModel } from '../src/recipes/mnist.js';
import { classificationReport, precisionRecallF1, confusionMatrix, type PRF } from '../src/metrics/index.js';
import { plotHistory, plotConfusionMatrix, plotImageGrid, saveFigure } from '../src/viz/index.js';
import { loadVizPackages } from '../src/viz/assets.js';
import { loadMnist } from '../src/data/index.js';
import { registerLmCommands } from './lm.js';
import { registerServeCommand } from './serve.js';
import { registerFeedbackCommand } from './feedback.js';
import { ProgressBar } from '../src/train/progress.js';
import { Callback, type Logs } from '../src/train/callbacks.js';
import { listBackends, getBackend, setBackend, setThreads } from '../src/index.js';
import { defaultSkipped, loadBackend } from '../src/backends/backend.js';
import { hardwareThreads } from '../src/platform/workers.js';
import { NonFiniteLossError } from '../src/train/loss-guard.js';
import { smokeCaps } from '../src/train/smoke.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

function int(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function positive(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

/** One JSON object per line on stdout for each epoch (the --json format). */
class JsonEpochLines extends Callback {
  private t0 = 0;
  override onEpochBegin(): void {
    this.t0 = performance.now();
  }
  override onEpochEnd(epoch: number, logs: Logs): void {
    console.log(
      JSON.stringify({
        event: 'epoch',
        epoch: epoch + 1,
        loss: logs.loss,
        acc: logs.accuracy,
        val_loss: logs.val_loss,
        val_acc: logs.val_accuracy,
        seconds: (performance.now() - this.t0) / 1000,
      }),
    );
  }
}

/** Picture paths are checked before training, not after it. */
function checkFigurePath(cmd: Command, flag: string, path: string): void {
  const ext = extname(path).toLowerCase();
  if (ext !== '' && ext !== '.png' && ext !== '.svg') cmd.error(`error: ${flag} must name a .png or .svg file (or no extension for both), got '${path}'`);
}

/** Pick the backend (default: the fastest that loads) and thread count, and wait until it is up. */
async function chooseBackend(name?: string, threads?: number): Promise<void> {
  const backend = await setBackend(name ?? getBackend().name);
  if (threads !== undefined) {
    if (backend.name !== 'wasm') throw new Error(`--threads applies to the wasm backend, not '${backend.name}'`);
    const cores = hardwareThreads();
    if (threads > cores) {
      // More threads than cores only makes them wait for each other (64 on 2 cores ran 66 times slower).
      console.error(`nabla: --threads ${threads} is more than the ${cores} cores here; using ${cores}`);
      threads = cores;
    }
    setThreads(threads);
    await backend.ready?.();
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program.name('nabla').description('Deep learning and language models in TypeScript').version(pkg.version).showHelpAfterError().exitOverride().enablePositionalOptions(); // a subcommand's options (eval mnist --json) are its own, not its parent's (eval DIR --json)

  const train = program.command('train').description('train a model');
  train
    .command('mnist')
    .description("train a handwritten-digit classifier on MNIST (the articles' 784-512-10 network, or a CNN)")
    .option('--model <name>', 'mlp (784-512-10) or cnn (Conv-ReLU-Pool x2, Dense, Dense)', MNIST_DEFAULTS.model)
    .option(
      '--epochs <n>',
      `training epochs (default: ${Object.entries(MNIST_EPOCHS)
        .map(([m, e]) => `${e} for ${m}`)
        .join(', ')})`,
      int('--epochs'),
    )
    .option('--batch-size <n>', 'examples per step', int('--batch-size'), MNIST_DEFAULTS.batchSize)
    .option('--lr <x>', 'peak learning rate (cosine decay to 0)', positive('--lr'), MNIST_DEFAULTS.lr)
    .option('--optimizer <name>', 'adam, adamw, sgd or rmsprop', MNIST_DEFAULTS.optimizer)
    .option('--seed <n>', 'random seed (weights, shuffling, dropout)', int('--seed', 0), MNIST_DEFAULTS.seed)
    .option('--limit <n>', 'use only the first N training images', int('--limit'))
    .option('--test-limit <n>', 'test on only the first N test images', int('--test-limit'))
    .option('--save <dir>', 'write a checkpoint (weights, config, optimizer) to this directory')
    .option('--plot <file>', 'chart the loss and accuracy per epoch: FILE.png, FILE.svg, or FILE (both)')
    .option('--backend <name>', 'compute backend: wasm, js or webgpu (default: wasm where it loads)')
    .option('--threads <n>', 'CPU threads for the wasm backend (default: all cores, at most 16)', int('--threads'))
    .option('--json', 'one JSON object per line on stdout')
    .action(async (o, cmd: Command) => {
      if (o.plot) checkFigurePath(cmd, '--plot', o.plot);
      if (o.plot) await loadVizPackages(); // optional packages: a missing one stops here, not after training
      if (!MNIST_MODELS.includes(o.model)) cmd.error(`error: --model must be ${MNIST_MODELS.join(' or ')}, got '${o.model}'`);
      o.epochs ??= MNIST_EPOCHS[o.model as MnistModel];
      Object.assign(o, smokeCaps('train mnist', { epochs: o.epochs, limit: o.limit, testLimit: o.testLimit })); // NABLA_SMOKE=1: say what really runs
      if (!['adam', 'adamw', 'sgd', 'rmsprop'].includes(o.optimizer)) cmd.error(`error: --optimizer must be adam, adamw, sgd or rmsprop, got '${o.optimizer}'`);
      await chooseBackend(o.backend, o.threads);
      const callbacks: Callback[] = o.json ? [new JsonEpochLines()] : [];
      if (!o.json) {
        const stepsPerEpoch = Math.ceil(((o.limit ?? 60000) - Math.min(5000, Math.floor((o.limit ?? 60000) / 10))) / o.batchSize);
        callbacks.push(new ProgressBar({ verbose: 1, epochs: o.epochs, stepsPerEpoch }));
        console.log(`Training a ${describeMnistModel(o.model)} on MNIST with ${o.optimizer} (lr ${o.lr}), batch ${o.batchSize}, ${o.epochs} epochs, backend ${getBackend().name}`);
      }
      const r = await trainMnist({
        model: o.model,
        epochs: o.epochs,
        batchSize: o.batchSize,
        lr: o.lr,
        optimizer: o.optimizer,
        seed: o.seed,
        limit: o.limit,
        testLimit: o.testLimit,
        save: o.save,
        callbacks,
      });
      if (o.json) {
        console.log(JSON.stringify({ event: 'end', test_loss: r.test.loss, test_acc: r.test.accuracy, seconds: r.seconds }));
      } else {
        console.log(`Test: loss ${r.test.loss.toFixed(4)} - accuracy ${(100 * r.test.accuracy).toFixed(2)}% (${r.seconds.toFixed(1)} s in all)`);
        if (o.save) console.log(`Saved checkpoint to ${o.save}`);
      }
      if (o.plot) {
        const written = await saveFigure(await plotHistory(r.history, { title: `${describeMnistModel(o.model)} on MNIST` }), o.plot);
        if (o.json) console.log(JSON.stringify({ event: 'plot', files: written }));
        else console.log(`Wrote the training history to ${written.join(' and ')}`);
      }
    });

  const evalCmd = program.command('eval').description('evaluate a saved model');
  evalCmd
    .command('mnist')
    .description('evaluate a checkpoint on the MNIST test set')
    .requiredOption('--load <dir>', 'checkpoint directory written by `nabla train mnist --save`')
    .option('--backend <name>', 'compute backend: wasm, js or webgpu (default: wasm where it loads)')
    .option('--threads <n>', 'CPU threads for the wasm backend (default: all cores, at most 16)', int('--threads'))
    .option('--limit <n>', 'evaluate on only the first N test images', int('--limit'))
    .option('--confusion <file>', 'draw the confusion matrix as a heatmap: FILE.png, FILE.svg, or FILE (both)')
    .option('--samples <file>', 'draw test images with predicted and true labels: FILE.png, FILE.svg, or FILE (both)')
    .option('--json', 'print one JSON object')
    .action(async (o, cmd: Command) => {
      for (const flag of ['confusion', 'samples'] as const) if (o[flag]) checkFigurePath(cmd, `--${flag}`, o[flag]);
      if (o.confusion || o.samples) await loadVizPackages();
      await chooseBackend(o.backend, o.threads);
      const r = await evalMnist(o.load, { testLimit: o.limit });
      const perClass = precisionRecallF1(r.labels, r.predictions, { average: 'none', numClasses: 10 }) as PRF[];
      if (o.json) {
        console.log(JSON.stringify({ event: 'eval', model: r.model, test_loss: r.loss, test_acc: r.accuracy, per_class: perClass }));
      } else {
        console.log(`Test (${r.model}, ${r.labels.length} images): loss ${r.loss.toFixed(4)} - accuracy ${(100 * r.accuracy).toFixed(2)}%\n`);
        console.log(classificationReport(r.labels, r.predictions, { numClasses: 10, digits: 4 }));
      }
      const written: string[] = [];
      if (o.confusion) {
        const fig = await plotConfusionMatrix(confusionMatrix(r.labels, r.predictions, 10), { title: `MNIST test set (${r.model}): true vs predicted` });
        written.push(...(await saveFigure(fig, o.confusion)));
      }
      if (o.samples) {
        const n = Math.min(40, r.labels.length);
        const { x } = await loadMnist({ train: false, limit: n });
        const fig = await plotImageGrid(x, {
          imageShape: [28, 28],
          predicted: Array.from(r.predictions.subarray(0, n)),
          actual: Array.from(r.labels.subarray(0, n)),
          columns: 10,
          title: `The first ${n} MNIST test images (${r.model})`,
        });
        x.dispose();
        written.push(...(await saveFigure(fig, o.samples)));
      }
      if (written.length) {
        if (o.json) console.log(JSON.stringify({ event: 'plot', files: written }));
        else console.log(`\nWrote ${written.join(', ')}`);
      }
    });

  registerLmCommands(program, train, evalCmd, { int, positive, chooseBackend });
  registerServeCommand(program, { int, positive, chooseBackend });
  registerFeedbackCommand(program);

  program
    .command('info')
    .description('show the backends, the one in use, and the runtime')
    .option('--json', 'print one JSON object')
    .action(async (o) => {
      const backends: Record<string, unknown> = {};
      for (const name of listBackends()) {
        try {
          const b = await loadBackend(name);
          backends[name] = b.info?.() ?? {};
        } catch (e) {
          backends[name] = { unavailable: (e as Error).message };
        }
      }
      const info = {
        version: pkg.version,
        node: process.version,
        cores: hardwareThreads(),
        backend: getBackend().name,
        backends,
        ...(Object.keys(defaultSkipped).length ? { defaultSkipped } : {}),
      };
      if (o.json) console.log(JSON.stringify(info));
      else {
        console.log(`nabla ${info.version} on Node.js ${info.node}, ${info.cores} cores`);
        console.log(`backend in use: ${info.backend}`);
        for (const [name, b] of Object.entries(backends)) {
          const fields = Object.entries(b as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`);
          console.log(`  ${name}: ${fields.join(' ') || 'ok'}`);
        }
        for (const [name, why] of Object.entries(defaultSkipped)) console.log(`  (${name} passed over: ${why})`);
      }
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were printed by commander with the usage text.
      return e.exitCode;
    }
    if (e instanceof NonFiniteLossError) {
      console.error(`nabla: ${e.message}`);
      return 3;
    }
    console.error(`nabla: ${(e as Error).message}`);
    return 1;
  }
}
