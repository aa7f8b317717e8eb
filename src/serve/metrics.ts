// The server's Prometheus metrics (GET /metrics), in a registry of its own so that two servers in
// one process (tests, an embedding application) never share or clash: requests by endpoint and
// status, prompt and generated tokens, time to first token, inter-token latency, end-to-end
// latency, queue time, requests running and waiting, and the batch size of each decoding step.
// Names follow Prometheus' conventions (base units, _total counters) with vLLM's choices of
// histograms.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Engine, EngineResult, StepInfo } from './engine-api.js';

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10];
const REQUEST_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/** The metrics of one server; `registry.metrics()` is the /metrics text. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'endpoint' | 'status'>;
  readonly promptTokens: Counter;
  readonly generationTokens: Counter;
  readonly finished: Counter<'finish_reason'>;
  readonly timeToFirstToken: Histogram;
  readonly interTokenLatency: Histogram;
  readonly requestLatency: Histogram;
  readonly queueTime: Histogram;
  readonly batchSize: Histogram;
  readonly stepTime: Histogram;
  private engine: Engine | null = null;

  constructor(o: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // Process figures (resident memory, CPU, event-loop lag): what tells a memory leak or a blocked loop.
    if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: 'nabla_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['endpoint', 'status'], registers });
    this.promptTokens = new Counter({ name: 'nabla_prompt_tokens_total', help: 'Prompt tokens of finished generation requests', registers });
    this.generationTokens = new Counter({ name: 'nabla_generation_tokens_total', help: 'Tokens generated', registers });
    this.finished = new Counter({
      name: 'nabla_request_finished_total',
      help: 'Generation requests finished, by reason (stop, length, abort)',
      labelNames: ['finish_reason'],
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: 'nabla_time_to_first_token_seconds',
      help: 'From the request reaching the engine to its first token (queue and prompt included)',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.interTokenLatency = new Histogram({
      name: 'nabla_inter_token_latency_seconds',
      help: 'Time between two consecutive tokens of one request',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.requestLatency = new Histogram({
      name: 'nabla_e2e_request_latency_seconds',
      help: 'From the request reaching the engine to its last token',
      buckets: REQUEST_BUCKETS_S,
      registers,
    });
    this.queueTime = new Histogram({ name: 'nabla_request_queue_time_seconds', help: 'Time spent waiting for a slot', buckets: REQUEST_BUCKETS_S, registers });
    this.batchSize = new Histogram({
      name: 'nabla_batch_size',
      help: 'Sequences decoded together in one step',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64],
      registers,
    });
    this.stepTime = new Histogram({ name: 'nabla_step_seconds', help: 'Wall time of one decoding step', buckets: LATENCY_BUCKETS_S, registers });
    const self = this;
    new Gauge({
      name: 'nabla_requests_running',
      help: 'Requests decoding now',
      registers,
      collect() {
        this.set(self.engine?.running ?? 0);
      },
    });
    new Gauge({
      name: 'nabla_requests_waiting',
      help: 'Requests queued for a slot',
      registers,
      collect() {
        this.set(self.engine?.waiting ?? 0);
      },
    });
  }

  /** Follow an engine: its queue gauges and the batch size of each of its steps. */
  watch(engine: Engine): void {
    this.engine = engine;
    engine.onStep((s: StepInfo) => {
      if (this.engine !== engine) return;
      if (s.batchSize > 0) this.batchSize.observe(s.batchSize);
      this.stepTime.observe(s.ms / 1000);
    });
  }

  /** Count a finished generation request; `finishReason` as answered (a stop string ends a request as 'stop'). */
  observeResult(r: EngineResult, finishReason: string = r.finishReason): void {
    this.promptTokens.inc(r.promptTokens);
    this.generationTokens.inc(r.completionTokens);
    this.finished.inc({ finish_reason: finishReason });
    if (r.completionTokens > 0) this.timeToFirstToken.observe(r.timeToFirstTokenMs / 1000);
    this.queueTime.observe(r.queuedMs / 1000);
    this.requestLatency.observe((r.timeToFirstTokenMs + r.generationMs) / 1000);
  }
}
