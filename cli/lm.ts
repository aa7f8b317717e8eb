// The language-model commands: train gpt, finetune, generate, and eval DIR --text.

import { checkSaveTarget } from '../src/io/checkpoint.js';
import type { Command, OptionValues } from 'commander';
import {
  trainGpt,
  evaluateText,
  readTextCorpus,
  gptSavePath,
  GPT_TRAIN_DEFAULTS,
  type GptTrainOptions,
  type GptTrainResult,
  type GptStepInfo,
  type GptEvalInfo,
} from '../src/recipes/gpt.js';
import { GPT_PRESETS } from '../src/models/gpt-config.js';
import { finetuneChat, finetuneClassify, finetuneLm } from '../src/recipes/finetune.js';
import { ProgressBar } from '../src/train/progress.js';
import { fromPretrained, languageModelFrom } from '../src/models/pretrained.js';
import { tensor } from '../src/tensor/creation.js';

export interface CliHelpers {
  int(name: string, min?: number): (v: string) => number;
  positive(name: string): (v: string) => number;
  chooseBackend(name?: string, threads?: number): Promise<void>;
}

/** Options shared by `train gpt` and `finetune`. */
function trainingOptions(cmd: Command, h: CliHelpers): Command {
  return cmd
    .option('--steps <n>', `optimizer steps (default ${GPT_TRAIN_DEFAULTS.steps})`, h.int('--steps'))
    .option('--batch-size <n>', `windows per micro-batch (default ${GPT_TRAIN_DEFAULTS.batchSize})`, h.int('--batch-size'))
    .option('--grad-accum <k>', 'micro-batches per optimizer step (default 1)', h.int('--grad-accum'))
    .option('--lr <x>', `peak learning rate, cosine decay to lr/10 (default ${GPT_TRAIN_DEFAULTS.lr})`, h.positive('--lr'))
    .option('--warmup <n>', `linear warmup steps (default ${GPT_TRAIN_DEFAULTS.warmup}, or a tenth of --steps when that is less)`, h.int('--warmup', 0))
    .option('--weight-decay <x>', `AdamW weight decay on matrices (default ${GPT_TRAIN_DEFAULTS.weightDecay})`, parseFloat)
    .option('--dropout <p>', "dropout (default: the preset's)", parseFloat)
    .option('--eval-every <n>', `validate, sample and checkpoint every N steps (default ${GPT_TRAIN_DEFAULTS.evalEvery})`, h.int('--eval-every'))
    .option('--eval-iters <n>', `batches per validation loss (default ${GPT_TRAIN_DEFAULTS.evalIters})`, h.int('--eval-iters'))
    .option('--sample-tokens <n>', `tokens sampled at each evaluation (default ${GPT_TRAIN_DEFAULTS.sampleTokens})`, h.int('--sample-tokens', 0))
    .option('--seed <n>', `random seed (default ${GPT_TRAIN_DEFAULTS.seed})`, h.int('--seed', 0))
    .option('--save <dir>', 'checkpoint directory (Hugging Face layout + training state), written at each evaluation')
    .option('--backend <name>', 'compute backend: wasm, js or webgpu (default: wasm where it loads)')
    .option('--threads <n>', 'CPU threads for the wasm backend (default: all cores, at most 16)', h.int('--threads'))
    .option('--json', 'one JSON object per line on stdout');
}

/** Progress: a bar with loss, tokens/s and ETA on a terminal, plain lines otherwise, JSON lines with --json. */
function progress(json: boolean): Pick<GptTrainOptions, 'onStep' | 'onEval'> & { stop(): void } {
  const bar = new ProgressBar({ verbose: json ? 0 : 1 });
  return {
    onStep(s: GptStepInfo) {
      if (json) {
        if (s.step % 50 === 0) console.log(JSON.stringify({ event: 'step', step: s.step, loss: s.loss, lr: s.lr, tokens_per_s: Math.round(s.tokensPerSecond) }));
        return;
      }
      bar.showStep(s.step, s.steps, [`loss ${s.loss.toFixed(4)}`, `${Math.round(s.tokensPerSecond).toLocaleString('en-US')} tok/s`, `lr ${s.lr.toExponential(2)}`]);
    },
    onEval(e: GptEvalInfo) {
      if (json) {
        console.log(
          JSON.stringify({ event: 'eval', step: e.step, train_loss: e.trainLoss, val_loss: e.valLoss, val_perplexity: e.valPerplexity, sample: e.sample, seconds: e.seconds }),
        );
        return;
      }
      bar.pause();
      console.log(`step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, val loss ${e.valLoss.toFixed(4)}, val perplexity ${e.valPerplexity.toFixed(2)} (${e.seconds.toFixed(0)} s)`);
      if (e.sample) console.log(`--- sample ---\n${e.sample}\n--------------`);
    },
    stop() {
      bar.pause();
    },
  };
}

/** Run a training with the CLI's progress display, and print its end (a line, or JSON with --json). */
async function runTraining<R extends GptTrainResult>(
  o: OptionValues,
  train: (p: Pick<GptTrainOptions, 'onStep' | 'onEval'>) => Promise<R>,
  h: CliHelpers,
  what: string,
  saveTo: string | null,
): Promise<R> {
  await h.chooseBackend(o.backend, o.threads);
  const p = progress(!!o.json);
  try {
    if (!o.json) console.log(saveTo ? `${what}; checkpoints go to ${saveTo}` : what);
    const r = await train({ onStep: p.onStep, onEval: p.onEval });
    if (o.json) {
      console.log(
        JSON.stringify({
          event: 'end',
          step: r.step,
          train_loss: r.trainLoss,
          val_loss: r.valLoss,
          val_perplexity: r.valPerplexity,
          tokens_per_s: Math.round(r.tokensPerSecond),
          seconds: r.seconds,
        }),
      );
    } else {
      console.log(
        `Done: ${r.step} steps, val loss ${r.valLoss.toFixed(4)} (perplexity ${r.valPerplexity.toFixed(2)}), ${Math.round(r.tokensPerSecond).toLocaleString('en-US')} tok/s on average, ${r.seconds.toFixed(1)} s in all`,
      );
      if (r.saved) console.log(`Saved to ${r.saved}`);
    }
    return r;
  } finally {
    p.stop();
  }
}

const common = (o: OptionValues): Partial<GptTrainOptions> => ({
  steps: o.steps,
  batchSize: o.batchSize,
  gradAccum: o.gradAccum,
  lr: o.lr,
  warmup: o.warmup,
  weightDecay: o.weightDecay,
  dropout: o.dropout,
  evalEvery: o.evalEvery,
  evalIters: o.evalIters,
  sampleTokens: o.sampleTokens,
  seed: o.seed,
  save: o.save,
});

export function registerLmCommands(program: Command, train: Command, evalCmd: Command, h: CliHelpers): void {
  trainingOptions(
    train
      .command('gpt')
      .description('pre-train a GPT language model on a text file (90/10 train/validation split)')
      .requiredOption('--text <file>', 'UTF-8 text to train on')
      .option('--tokenizer <kind>', 'char or bpe (byte-level BPE trained on the text)', 'char')
      .option('--vocab-size <n>', `BPE vocabulary size (default ${GPT_TRAIN_DEFAULTS.vocabSize})`, h.int('--vocab-size', 257))
      .option('--preset <name>', `model preset: ${Object.keys(GPT_PRESETS).join(', ')} (default ${GPT_TRAIN_DEFAULTS.preset})`)
      .option('--layers <n>', 'transformer blocks (overrides the preset)', h.int('--layers'))
      .option('--heads <n>', 'attention heads', h.int('--heads'))
      .option('--dim <n>', 'embedding width', h.int('--dim'))
      .option('--context <n>', 'context length in tokens', h.int('--context'))
      .option('--resume <dir>', 'continue the run saved in this checkpoint'),
    h,
  ).action(async (o, cmd: Command) => {
    if (!['char', 'bpe'].includes(o.tokenizer)) cmd.error(`error: --tokenizer must be char or bpe, got '${o.tokenizer}'`);
    if (o.preset && !Object.hasOwn(GPT_PRESETS, o.preset)) cmd.error(`error: --preset must be one of ${Object.keys(GPT_PRESETS).join(', ')}, got '${o.preset}'`);
    const opts: GptTrainOptions = {
      ...common(o),
      text: o.text,
      tokenizer: o.tokenizer,
      vocabSize: o.vocabSize,
      preset: o.preset,
      layers: o.layers,
      heads: o.heads,
      dim: o.dim,
      context: o.context,
      resume: o.resume,
    };
    await runTraining(
      o,
      (p) => trainGpt({ ...opts, ...p }),
      h,
      o.resume ? `Resuming ${o.resume} on ${o.text}` : `Training a GPT (${o.preset ?? GPT_TRAIN_DEFAULTS.preset}, ${o.tokenizer} tokens) on ${o.text}`,
      gptSavePath(opts),
    );
  });

  trainingOptions(
    program
      .command('finetune')
      .description('fine-tune a pre-trained GPT: continue training on new text, learn to classify texts, or learn to chat (transfer learning)')
      .argument('<dir>', 'a model directory (nabla checkpoint or Hugging Face GPT-2 layout)')
      .option('--task <kind>', 'lm (continue language-model training on --text) or classify (--data FILE.jsonl)', 'lm')
      .option('--text <file>', 'lm: UTF-8 text to fine-tune on')
      .option('--data <file>', 'classify: JSON lines with "text" and "label" fields (a tenth is held out)')
      .option('--chat <file>', 'chat: JSON lines {"messages": [{"role", "content"}, ...]} (OpenAI\'s format); the loss is on the assistant\'s tokens only')
      .option('--val-fraction <p>', 'chat: share of the examples held out for the validation loss (default 0.1)', parseFloat)
      .option('--epochs <n>', 'classify, chat: passes over the data (default 3; --steps overrides it for chat)', h.int('--epochs'))
      .option('--lora <r>', 'train rank-R LoRA adapters on the attention and MLP projections only', h.int('--lora'))
      .option('--lora-alpha <x>', 'LoRA scaling numerator (scaling = alpha / r; default 2·r)', h.positive('--lora-alpha'))
      .option('--lora-dropout <p>', "dropout on the adapters' input (default 0.05)", parseFloat)
      .option('--lora-targets <names>', 'comma-separated module names to adapt', 'c_attn,c_proj,c_fc')
      .option('--merge', 'merge the adapters into the weights and save a whole model (default: save the adapters alone, PEFT layout)'),
    h,
  ).action(async (dir: string, o, cmd: Command) => {
    if (!o.save) cmd.error('error: finetune needs --save OUT (where the fine-tuned model goes)');
    if (o.chat && o.task === 'lm' && !o.text) o.task = 'chat'; // --chat FILE names the task
    if (!['lm', 'classify', 'chat'].includes(o.task)) cmd.error(`error: --task must be lm, classify or chat, got '${o.task}'`);
    if (o.task === 'chat' && !o.chat) cmd.error('error: finetune --task chat needs --chat FILE.jsonl');
    if (o.chat && o.task !== 'chat') cmd.error(`error: --chat FILE is chat fine-tuning; it does not go with --task ${o.task}${o.text ? ' and --text' : ''}`);
    if (o.task === 'lm' && !o.text) cmd.error('error: finetune --task lm needs --text FILE');
    if (o.task === 'classify' && !o.data) cmd.error('error: finetune --task classify needs --data FILE.jsonl');
    const lora = o.lora
      ? {
          r: o.lora,
          alpha: o.loraAlpha ?? 2 * o.lora,
          dropout: o.loraDropout ?? 0.05,
          targetModules: String(o.loraTargets)
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        }
      : null;
    const describe = lora ? ` with rank-${lora.r} LoRA adapters on ${lora.targetModules.join(', ')}` : '';
    if (o.task === 'chat') {
      await runChat(dir, o, lora, describe, h);
      return;
    }
    if (o.task === 'classify') {
      await checkSaveTarget(o.save, 'finetune --save'); // before loading the backend, not after training
      await h.chooseBackend(o.backend, o.threads);
      if (!o.json) console.log(`Fine-tuning ${dir} to classify ${o.data}${describe}`);
      const r = await finetuneClassify({
        model: dir,
        data: o.data,
        save: o.save,
        lora,
        epochs: o.epochs,
        batchSize: o.batchSize,
        lr: o.lr,
        weightDecay: o.weightDecay,
        seed: o.seed,
        onEpoch: (e) => {
          if (o.json) console.log(JSON.stringify({ event: 'epoch', epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, f1: e.f1 }));
          else console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)} - held-out accuracy ${(100 * e.accuracy).toFixed(2)}% - macro F1 ${e.f1.toFixed(4)}`);
        },
      });
      if (o.json) console.log(JSON.stringify({ event: 'end', accuracy: r.accuracy, f1: r.f1, labels: r.labels, seconds: r.seconds }));
      else console.log(`Done: held-out accuracy ${(100 * r.accuracy).toFixed(2)}%, macro F1 ${r.f1.toFixed(4)} (${r.labels.join(', ')}), ${r.seconds.toFixed(1)} s. Saved to ${o.save}`);
      return;
    }
    const r = await runTraining(
      o,
      (p) => finetuneLm({ ...common(o), ...p, model: dir, text: o.text, save: o.save, lora, merge: !!o.merge }),
      h,
      `Fine-tuning ${dir} on ${o.text}${describe}`,
      gptSavePath({ save: o.save }),
    );
    if (r.merged && !o.json) console.log(`Merged the adapters into the weights: ${o.save} holds the whole model`);
  });

  program
    .command('generate')
    .description('generate text from a trained model, streaming tokens as they come')
    .argument('<dir>', 'a model directory (nabla checkpoint, or a Hugging Face GPT-2, Llama, Qwen2 or Mistral directory)')
    .option('--prompt <text>', 'text to continue', '\n')
    .option('--max-new-tokens <n>', 'tokens to generate', h.int('--max-new-tokens'), 200)
    .option('--temperature <t>', '0 = greedy', parseFloat, 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens', h.int('--top-k'))
    .option('--top-p <p>', 'sample among the most likely tokens whose probabilities sum to p', parseFloat)
    .option('--repetition-penalty <x>', 'divide the logits of tokens already present (> 1 discourages repeats)', parseFloat)
    .option('--stop <text...>', 'stop when one of these strings is produced')
    .option('--seed <n>', 'random seed', h.int('--seed', 0), 1337)
    .option('--backend <name>', 'compute backend: wasm, js or webgpu (default: wasm where it loads)')
    .option('--threads <n>', 'CPU threads for the wasm backend (default: all cores, at most 16)', h.int('--threads'))
    .option('--json', 'print one JSON object with the text and timings')
    .action(async (dir: string, o) => {
      await h.chooseBackend(o.backend, o.threads);
      const { model, tokenizer } = await languageModelFrom(dir, 'generate', { llama: true }); // GPT-2 or a Llama-family decoder
      const prompt = tokenizer.encode(o.prompt);
      if (prompt.length === 0) throw new Error('generate: the prompt encodes to no tokens');
      const stop: number[][] | undefined = o.stop?.map((s: string) => tokenizer.encode(s));
      const ids: number[] = [];
      let printed = '';
      const t0 = performance.now();
      if (!o.json) process.stdout.write(o.prompt);
      const idx = tensor(Int32Array.from(prompt), { shape: [1, prompt.length], dtype: 'int32' });
      const out = model.generate(idx, {
        maxNewTokens: o.maxNewTokens,
        temperature: o.temperature,
        topK: o.topK,
        topP: o.topP,
        repetitionPenalty: o.repetitionPenalty,
        seed: o.seed,
        stop,
        onToken: (id: number) => {
          ids.push(id);
          if (o.json) return;
          const text = tokenizer.decode(ids);
          if (text.endsWith('\uFFFD')) return; // an incomplete UTF-8 sequence: wait for its next byte
          process.stdout.write(text.slice(printed.length));
          printed = text;
        },
      });
      out.dispose();
      idx.dispose();
      const seconds = (performance.now() - t0) / 1000;
      const text = tokenizer.decode(ids);
      if (o.json) console.log(JSON.stringify({ event: 'generate', prompt: o.prompt, text, tokens: ids.length, seconds, tokens_per_s: ids.length / seconds }));
      else {
        if (text.length > printed.length) process.stdout.write(text.slice(printed.length));
        process.stderr.write(`\n[${ids.length} tokens in ${seconds.toFixed(2)} s, ${(ids.length / seconds).toFixed(1)} tokens/s]\n`);
      }
    });

  program
    .command('classify')
    .description('classify texts with a model trained by `nabla finetune --task classify` (labels and probabilities)')
    .argument('<dir>', 'a text-classifier directory (GPT2ForSequenceClassification layout)')
    .option('--text <text...>', 'texts to classify')
    .option('--file <file>', 'a UTF-8 file with one text per line (empty lines skipped)')
    .option('--batch-size <n>', 'texts per forward pass', h.int('--batch-size'), 16)
    .option('--backend <name>', 'compute backend: wasm, js or webgpu (default: wasm where it loads)')
    .option('--threads <n>', 'CPU threads for the wasm backend (default: all cores, at most 16)', h.int('--threads'))
    .option('--json', 'one JSON object per text: text, label, score, probabilities')
    .action(async (dir: string, o, cmd: Command) => {
      if (!o.text && !o.file) cmd.error('error: classify needs --text TEXT... or --file FILE');
      await h.chooseBackend(o.backend, o.threads);
      const texts: string[] = [...(o.text ?? [])];
      if (o.file) texts.push(...(await readTextCorpus(o.file, 'classify --file')).split(/\r?\n/).filter((l) => l.trim()));
      if (texts.length === 0) cmd.error(`error: ${o.file} has no text to classify`);
      const pre = await fromPretrained(dir);
      if (pre.task !== 'text-classification') {
        throw new Error(`classify: ${dir} holds a language model, not a text classifier; make one with \`nabla finetune ${dir} --task classify --data FILE.jsonl --save OUT\``);
      }
      if (!pre.tokenizer) throw new Error(`classify: ${dir} has no tokenizer (tokenizer.json, or vocab.json + merges.txt)`);
      const results = await pre.model.classify(texts, pre.tokenizer, { batchSize: o.batchSize });
      results.forEach((r, i) => {
        if (o.json) console.log(JSON.stringify({ text: texts[i], label: r.label, score: r.score, probabilities: r.probabilities }));
        else console.log(`${r.label}\t${(100 * r.score).toFixed(1)}%\t${texts[i]}`);
      });
    });

  evalCmd
    .argument('[dir]', 'a language-model directory to evaluate on --text (or the subcommand mnist)')
    .option('--text <file>', 'UTF-8 text: prints the loss and perplexity of the model on it')
    .option('--backend <name>', 'compute backend: wasm, js or webgpu (default: wasm where it loads)')
    .option('--threads <n>', 'CPU threads for the wasm backend (default: all cores, at most 16)', h.int('--threads'))
    .option('--json', 'print one JSON object')
    .action(async (dir: string | undefined, o, cmd: Command) => {
      if (!dir || !o.text) cmd.error('error: use `nabla eval DIR --text FILE` for a language model or `nabla eval mnist --load DIR`');
      await h.chooseBackend(o.backend, o.threads);
      const { model, tokenizer } = await languageModelFrom(dir!, 'eval', { llama: true });
      const text = await readTextCorpus(o.text, 'eval --text');
      const r = await evaluateText(model, tokenizer, text);
      if (o.json) console.log(JSON.stringify({ event: 'eval', loss: r.loss, perplexity: r.perplexity, tokens: r.tokens }));
      else console.log(`${o.text}: ${r.tokens} tokens, loss ${r.loss.toFixed(4)}, perplexity ${r.perplexity.toFixed(2)}`);
    });
}

/** `nabla finetune DIR --chat FILE.jsonl`: progress per step and epoch, then the held-out loss before and after. */
async function runChat(dir: string, o: OptionValues, lora: Parameters<typeof finetuneChat>[0]['lora'], describe: string, h: CliHelpers): Promise<void> {
  await checkSaveTarget(o.save, 'finetune --save'); // before loading the backend, not after training
  await h.chooseBackend(o.backend, o.threads);
  if (!o.json) console.log(`Fine-tuning ${dir} to chat on ${o.chat}${describe}`);
  const bar = new ProgressBar({ verbose: o.json ? 0 : 1 });
  try {
    const r = await finetuneChat({
      model: dir,
      data: o.chat,
      save: o.save,
      lora,
      merge: !!o.merge,
      epochs: o.epochs,
      steps: o.steps,
      batchSize: o.batchSize,
      gradAccum: o.gradAccum,
      lr: o.lr,
      warmup: o.warmup,
      weightDecay: o.weightDecay,
      valFraction: o.valFraction,
      seed: o.seed,
      onStep: (s) => {
        if (o.json) {
          if (s.step % 50 === 0) console.log(JSON.stringify({ event: 'step', step: s.step, loss: s.loss, lr: s.lr }));
        } else bar.showStep(s.step, s.steps, [`loss ${s.loss.toFixed(4)}`, `lr ${s.lr.toExponential(2)}`]);
      },
      onEpoch: (e) => {
        if (o.json)
          console.log(
            JSON.stringify({ event: 'epoch', epoch: e.epoch, step: e.step, train_loss: e.trainLoss, val_loss: Number.isNaN(e.valLoss) ? null : e.valLoss, seconds: e.seconds }),
          );
        else {
          bar.pause();
          const val = Number.isNaN(e.valLoss) ? '' : `, held-out loss ${e.valLoss.toFixed(4)}`;
          console.log(`epoch ${e.epoch} (step ${e.step}): train loss ${e.trainLoss.toFixed(4)}${val} (${e.seconds.toFixed(0)} s)`);
        }
      },
    });
    bar.pause();
    const nan = (x: number) => (Number.isNaN(x) ? null : x);
    if (o.json) {
      console.log(
        JSON.stringify({
          event: 'end',
          step: r.step,
          epochs: r.epochs,
          train_examples: r.trainExamples,
          val_examples: r.valExamples,
          train_tokens: r.trainTokens,
          truncated: r.truncated,
          dropped: r.dropped,
          initial_val_loss: nan(r.initialValLoss),
          val_loss: nan(r.valLoss),
          train_loss: r.trainLoss,
          template: r.template,
          eos_token: r.eosToken,
          merged: r.merged,
          seconds: r.seconds,
        }),
      );
      return;
    }
    const val = r.valExamples ? `held-out loss ${r.initialValLoss.toFixed(4)} → ${r.valLoss.toFixed(4)} on ${r.valExamples} examples` : 'no held-out split';
    console.log(`Done: ${r.step} steps (${r.epochs} epochs over ${r.trainExamples} examples, ${r.trainTokens} assistant tokens each), ${val}, ${r.seconds.toFixed(1)} s`);
    if (r.truncated)
      console.log(`${r.truncated} examples were longer than the model's context and were cut${r.dropped ? `; ${r.dropped} kept no assistant token and were left out` : ''}`);
    if (r.eosToken === null) console.log("Note: the tokenizer has no end-of-text token, so a reply ends only at the template's stop strings or at max_tokens");
    console.log(`Saved to ${o.save} (${r.merged ? 'adapters merged into a whole model' : lora ? 'LoRA adapters, PEFT layout' : 'whole model'}; chat template: ${r.template})`);
  } finally {
    bar.pause();
  }
}
