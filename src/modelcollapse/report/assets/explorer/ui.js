// ui.js: MCX.ui, the explorer's controls, charts and texts.
//
// Every control change builds a config (the contract of sim.js and theory.js), validates it,
// reruns the simulation (MCX.sim) and the exact theory (MCX.theory) and redraws the charts with
// Plotly.react. Changes arriving while a frame is pending are coalesced, so dragging a slider
// redraws once per animation frame at most. A slow family (the mixture's EM) is stepped a few
// generations per frame, drawing as it goes, so the page never freezes.
//
// Safety: nothing the user types is ever inserted as HTML. Texts go in with textContent, typed
// values are parsed as numbers (anything else is reported, as text, beside the field), and the
// state kept in the address's #fragment is read back through the same parsers.
(function () {
  "use strict";
  const root = typeof window !== "undefined" ? window : globalThis;
  const MCX = (root.MCX = root.MCX || {});
  const ui = (MCX.ui = MCX.ui || {});

  const settings = JSON.parse(document.getElementById("mcx-settings").textContent);
  const COLORS = settings.colors;

  // -- the families: what is shown, their controls' ranges and defaults --------------------------

  const FAMILIES = {
    coin: {
      title: "Coin",
      noun: "rollouts",
      size: "tosses per generation (k)",
      metrics: ["p"],
      defaults: { n: 10, generations: 60, replicates: 100, p0: 0.5, temperature: 1 },
      ranges: { n: [1, 10000], generations: [1, 1000], replicates: [1, 2000] },
      story: [
        "A coin is estimated from k of its own tosses, then tossed k times to make the next " +
        "generation's data: the estimate p̂ is the share of heads. Nothing pulls p̂ back to the " +
        "truth, so it wanders, and once it reaches 0 or 1 every later toss agrees with it: it " +
        "is stuck there for ever. This is Wright–Fisher drift, the population geneticists' " +
        "model of a gene's frequency.",
        "Small k sticks within a few generations, large k drifts slowly (the mean time to " +
        "stick grows like 1.39 k for a fair coin). Fresh real tosses (mix) hold p̂ near the " +
        "truth; keeping all old tosses (accumulate) turns it into a Pólya urn that settles at " +
        "a random value instead of sticking.",
      ],
    },
    gaussian: {
      title: "Gaussian",
      noun: "replicates",
      size: "samples per generation (N)",
      metrics: ["var", "mean"],
      defaults: { n: 100, generations: 200, replicates: 200, mean: 0, std: 1, estimator: "mle",
                  scale: 1 },
      ranges: { n: [2, 10000], generations: [1, 1000], replicates: [1, 2000] },
      story: [
        "A normal distribution is fitted (mean and variance) to N samples of the previous fit. " +
        "Each fit's variance is the previous one times a random factor whose mean is " +
        "(N − 1)/N, so on average the variance shrinks geometrically, and almost every " +
        "replicate's variance goes to 0: the tails vanish first.",
        "With the unbiased estimator the mean variance stays put, yet each replicate still " +
        "collapses (the typical path falls while rare paths grow). A fixed share of fresh real " +
        "data stops the shrinking at a stationary level; accumulating all the data slows it to " +
        "a small total loss.",
      ],
    },
    categorical: {
      title: "Categorical (Zipf)",
      noun: "replicates",
      size: "tokens per generation (N)",
      metrics: ["gini_simpson", "support", "entropy"],
      defaults: { n: 100, generations: 100, replicates: 100, vocab: 20, zipf: 1,
                  temperature: 1 },
      ranges: { n: [1, 10000], generations: [1, 1000], replicates: [1, 1000] },
      story: [
        "A unigram language model: V tokens with Zipf frequencies q_v ∝ v^(−s), re-estimated " +
        "from N tokens it generated itself. A token that draws no count is gone for good: the " +
        "rare tokens of the tail vanish first, then the vocabulary shrinks towards one word.",
        "The Gini–Simpson diversity 1 − Σ q² (the chance two tokens differ) decays exactly by " +
        "the factor 1 − 1/N per generation under replace. A sampling temperature below 1 " +
        "speeds the loss; above 1 it flattens the distribution over the tokens still alive.",
      ],
    },
    gmm: {
      title: "Gaussian mixture",
      noun: "replicates",
      size: "samples per generation (N)",
      metrics: ["var", "mean", "std_0", "std_1", "weight_0", "weight_1", "mean_0", "mean_1"],
      defaults: { n: 500, generations: 100, replicates: 20, means: [-2, 2], stds: [1, 1],
                  weights: [0.5, 0.5], scale: 1 },
      ranges: { n: [10, 5000], generations: [1, 500], replicates: [1, 100] },
      story: [
        "The classic experiment: a mixture of two normals (means −2 and 2, std 1, equal " +
        "weights) is fitted by EM, sampled, refitted, generation after generation. Each " +
        "component's variance drifts (most shrink), the weights wander, and one component can " +
        "take over the other.",
        "Whatever EM does inside, the whole mixture's mean and variance equal the sample's " +
        "after every fit, so the total variance follows the Gaussian's exact law " +
        "E var_t = var_0 (1 − 1/N)^t. The classic run uses N = 10 000 and 2000 generations " +
        "(modelcollapse run does it in seconds); here the sizes are smaller so that the page " +
        "stays live.",
      ],
    },
  };

  const METRIC_WORDS = {
    p: "p̂, the estimated probability of heads",
    var: "the fitted variance",
    mean: "the fitted mean",
    gini_simpson: "Gini–Simpson diversity 1 − Σ q̂²",
    support: "tokens still alive (support)",
    entropy: "entropy (nats)",
    reward: "E_model r, the model's mean reward",
    accept_rate: "accept rate: kept units per candidate drawn",
  };

  function metricWords(name) {
    if (METRIC_WORDS[name]) return METRIC_WORDS[name];
    const match = /^(mean|std|weight)_(\d+)$/.exec(name);
    if (match) return `component ${match[2]}'s ${match[1]} (sorted by mean)`;
    return name;
  }

  const POLICIES = {
    replace: "replace: only the last model's samples",
    mix: "mix: fresh real data + the model's samples (+ carried over)",
    accumulate: "accumulate: keep every training set, add N more",
    "accumulate-subsample": "accumulate-subsample: N drawn from everything so far",
    augment: "augment: the same real set every time + λN of the model's",
  };

  const CURATORS = {
    none: "none: the model's samples as drawn",
    "best-of": "best-of K: one of K candidates, chosen ∝ exp(reward)",
    verifier: "verifier: keep a candidate with probability (b(x)/max b)^s",
    top: "top: the most likely S of S/q candidates",
    bottom: "bottom: the least likely S of S/q candidates",
    reweight: "reweight: S resampled from S/q by likelihood ratios",
  };
  //: The reward text each family starts with (the package's --reward syntax).
  const DEFAULT_REWARDS = { coin: "0,1", categorical: "rank", gaussian: "truth", gmm: "truth" };
  const curated = (s) => s.curation && s.curation !== "none";

  // -- small DOM helpers (text only, never HTML) ------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function format(value) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
    const magnitude = Math.abs(value);
    if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(3);
    return Number(value.toPrecision(5)).toString();
  }

  // -- parsing what is typed -------------------------------------------------------------------

  function parseNumber(text, { integer = false, min = -Infinity, max = Infinity } = {}) {
    const trimmed = String(text).trim().replace(/\u2212/g, "-");
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) {
      throw new Error(`must be a number${integer ? " (a whole one)" : ""}`);
    }
    const value = Number(trimmed);
    if (integer && !Number.isInteger(value)) throw new Error("must be a whole number");
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}`);
    return value;
  }

  function parseList(text, { min = -Infinity, max = Infinity, positive = false } = {}) {
    const parts = String(text).split(/[,;\s]+/).filter((s) => s.length > 0);
    if (parts.length === 0) throw new Error("must be a comma-separated list of numbers");
    return parts.map((part) => {
      const value = parseNumber(part, { min, max });
      if (positive && !(value > 0)) throw new Error("must all be > 0");
      return value;
    });
  }

  // -- controls --------------------------------------------------------------------------------
  //
  // A control: id, label, kind (range | log | number | select | list | checkbox), families it
  // belongs to, and a `visible(state)` predicate for the policy-dependent ones.

  const CONTROLS = [
    { id: "n", label: "samples per generation", kind: "log", integer: true },
    { id: "generations", label: "generations", kind: "log", integer: true },
    { id: "replicates", label: "replicates", kind: "log", integer: true },
    { id: "seed", label: "seed", kind: "number", integer: true, min: 0, max: 4294967295 },
    { id: "p0", label: "p0, the true probability of heads", kind: "range", min: 0, max: 1,
      step: 0.01, families: ["coin"] },
    { id: "mean", label: "true mean", kind: "number", min: -1e6, max: 1e6,
      families: ["gaussian"] },
    { id: "std", label: "true standard deviation", kind: "number", min: 1e-6, max: 1e6,
      families: ["gaussian"] },
    { id: "estimator", label: "variance estimator", kind: "select",
      options: { mle: "MLE (divide by N)", unbiased: "unbiased (divide by N − 1)" },
      families: ["gaussian"] },
    { id: "vocab", label: "vocabulary size V", kind: "log", integer: true, min: 2, max: 1000,
      families: ["categorical"] },
    { id: "zipf", label: "Zipf exponent s", kind: "range", min: 0, max: 3, step: 0.05,
      families: ["categorical"] },
    { id: "means", label: "component means", kind: "list", families: ["gmm"] },
    { id: "stds", label: "component standard deviations", kind: "list", positive: true,
      families: ["gmm"] },
    { id: "weights", label: "component weights (sum to 1)", kind: "list", min: 0, max: 1,
      families: ["gmm"] },
    { id: "policy", label: "data policy", kind: "select", options: POLICIES },
    { id: "real", label: "fresh real data, share a", kind: "range", min: 0, max: 1, step: 0.01,
      visible: (s) => ["mix", "accumulate", "accumulate-subsample"].includes(s.policy) },
    { id: "carry", label: "carry part of the last training set over", kind: "checkbox",
      visible: (s) => s.policy === "mix" },
    { id: "synthetic", label: "model samples, share b (the rest is carried over)",
      kind: "range", min: 0, max: 1, step: 0.01,
      visible: (s) => s.policy === "mix" && s.carry },
    { id: "ratio", label: "model samples per real sample, λ", kind: "range", min: 0, max: 5,
      step: 0.1, visible: (s) => s.policy === "augment" },
    { id: "weighted", label: "weight the real data in the fit", kind: "checkbox",
      visible: (s) => ["mix", "augment"].includes(s.policy) },
    { id: "real_weight", label: "the real samples' total weight w", kind: "range", min: 0,
      max: 1, step: 0.01, visible: (s) => ["mix", "augment"].includes(s.policy) && s.weighted },
    { id: "temperature", label: "sampling temperature τ", kind: "log", min: 0.25, max: 4,
      families: ["coin", "categorical"] },
    { id: "scale", label: "sampling scale λ (× the fitted spread)", kind: "log", min: 0.5,
      max: 2, families: ["gaussian", "gmm"] },
    { id: "curation", label: "curation of the model's samples", kind: "select",
      options: CURATORS },
    { id: "k", label: "candidates per kept sample, K", kind: "log", integer: true, min: 1,
      max: 64, visible: (s) => s.curation === "best-of" },
    { id: "keep", label: "share kept, q", kind: "range", min: 0.05, max: 1, step: 0.05,
      visible: (s) => ["top", "bottom", "reweight"].includes(s.curation) },
    { id: "strictness", label: "verifier strictness s", kind: "range", min: 0, max: 10,
      step: 0.1, visible: (s) => s.curation === "verifier" },
    { id: "shift", label: "the verifier's belief: the truth moved by δ", kind: "range",
      min: -3, max: 3, step: 0.1, families: ["gaussian", "gmm"],
      visible: (s) => s.curation === "verifier" },
    { id: "false_accept", label: "false-accept rate ε", kind: "range", min: 0, max: 1,
      step: 0.01, visible: (s) => s.curation === "verifier" },
    { id: "power", label: "reweighting power", kind: "range", min: 0, max: 3, step: 0.1,
      visible: (s) => s.curation === "reweight" },
    { id: "reward", label: "reward (coin: r0,r1; categorical: rank, truth or V values; " +
      "Gaussian, mixture: truth or target:c)", kind: "reward", visible: curated },
  ];

  const COMMON = { seed: 2026, policy: "replace", real: 0, carry: false, synthetic: 0.5,
                   ratio: 1, weighted: false, real_weight: 0.5, curation: "none", k: 4,
                   keep: 0.5, strictness: 1, shift: 0, false_accept: 0, power: 1 };

  function controlRange(control, family) {
    const ranges = FAMILIES[family].ranges;
    if (ranges[control.id]) return ranges[control.id];
    return [control.min, control.max];
  }

  // Log sliders run over 0..1000 steps; their value is shown (and typed) in the number box.
  const LOG_STEPS = 1000;

  function toSlider(control, family, value) {
    const [low, high] = controlRange(control, family);
    const position = Math.log(value / low) / Math.log(high / low);
    return Math.round(Math.min(1, Math.max(0, position)) * LOG_STEPS);
  }

  function fromSlider(control, family, position) {
    const [low, high] = controlRange(control, family);
    const value = low * Math.pow(high / low, position / LOG_STEPS);
    if (control.integer) return Math.max(low, Math.min(high, Math.round(value)));
    return Number(value.toPrecision(3));
  }

  // -- state -----------------------------------------------------------------------------------

  const state = { family: "coin", metric: "p", logScale: false, values: {} };

  function defaultsFor(family) {
    return Object.assign({}, COMMON, { reward: DEFAULT_REWARDS[family] },
                         FAMILIES[family].defaults);
  }

  function currentValues() {
    return state.values[state.family];
  }

  function buildConfig() {
    const v = currentValues();
    const config = {
      family: state.family, n: v.n, generations: v.generations, replicates: v.replicates,
      seed: v.seed, policy: v.policy, real: 0, synthetic: null,
    };
    if (["mix", "accumulate", "accumulate-subsample"].includes(v.policy)) config.real = v.real;
    if (v.policy === "mix" && v.carry) config.synthetic = Math.min(v.synthetic, 1 - v.real);
    if (v.policy === "augment") config.synthetic = v.ratio;
    for (const key of ["p0", "mean", "std", "estimator", "vocab", "zipf", "means", "stds",
                       "weights", "temperature", "scale"]) {
      if (v[key] !== undefined) config[key] = v[key];
    }
    if (["mix", "augment"].includes(v.policy) && v.weighted) config.real_weight = v.real_weight;
    if (curated(v)) {
      config.curation = v.curation;
      if (v.curation === "best-of") config.k = v.k;
      if (["top", "bottom", "reweight"].includes(v.curation)) config.keep = v.keep;
      if (v.curation === "verifier") {
        config.strictness = v.strictness;
        config.false_accept = v.false_accept;
        if (v.shift !== undefined) config.shift = v.shift;
      }
      if (v.curation === "reweight") config.power = v.power;
      config.reward = v.reward === "" ? null : v.reward;
    }
    return config;
  }

  // -- statistics of the simulated replicates --------------------------------------------------

  function quantile(sorted, q) {
    // numpy's default (linear interpolation between order statistics)
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.min(low + 1, sorted.length - 1);
    return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
  }

  function bands(values, replicates, width, upto) {
    const median = new Float64Array(upto + 1);
    const lower = new Float64Array(upto + 1);
    const upper = new Float64Array(upto + 1);
    const mean = new Float64Array(upto + 1);
    const column = new Float64Array(replicates);
    for (let t = 0; t <= upto; t++) {
      let sum = 0;
      for (let r = 0; r < replicates; r++) {
        column[r] = values[r * width + t];
        sum += column[r];
      }
      column.sort();
      median[t] = quantile(column, 0.5);
      lower[t] = quantile(column, 0.05);
      upper[t] = quantile(column, 0.95);
      mean[t] = sum / replicates;
    }
    return { median, lower, upper, mean };
  }

  // The share of replicates collapsed by generation t: the coin's p̂ at 0 or 1 (from sim.js),
  // a continuous family's variance below half the truth's (the package's default collapse
  // fraction), the categorical's support below the vocabulary.
  function collapsedShare(result, config, upto) {
    if (result.absorbed) return { label: "absorbed at 0 or 1 by t", values: result.absorbed };
    const width = result.generations + 1;
    const out = new Float64Array(result.generations + 1);
    const metric = config.family === "categorical" ? "support" : "var";
    const values = result.metrics[metric];
    const threshold = config.family === "categorical" ? config.vocab : 0.5 * values[0];
    for (let r = 0; r < result.replicates; r++) {
      let hit = false;
      for (let t = 0; t <= upto; t++) {
        const v = values[r * width + t];
        if (!hit && v < threshold) hit = true;
        if (hit) out[t] += 1;
      }
    }
    for (let t = 0; t <= upto; t++) out[t] /= result.replicates;
    const label = config.family === "categorical" ? "has lost a token by t"
      : "variance below half the truth's by t";
    return { label, values: out };
  }

  // -- drawing ---------------------------------------------------------------------------------

  const SHOWN_EXAMPLES = 30;
  const LAYOUT = {
    margin: { l: 60, r: 20, t: 56, b: 45 }, hovermode: "x",
    font: { family: "system-ui, DejaVu Sans, sans-serif", size: 12 },
    // above the plot: below it the legend would run into the axis title on a short chart
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } },
    paper_bgcolor: "#fff", plot_bgcolor: "#fff",
    xaxis: { title: { text: "generation t" }, gridcolor: COLORS.grid, zeroline: false },
    yaxis: { gridcolor: COLORS.grid, zeroline: false },
  };

  function range(upto) {
    const t = new Array(upto + 1);
    for (let i = 0; i <= upto; i++) t[i] = i;
    return t;
  }

  function slice(array, upto) {
    return Array.from(array.subarray ? array.subarray(0, upto + 1) : array.slice(0, upto + 1));
  }

  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
  }

  function exampleTraces(result, config, metric, upto) {
    const width = result.generations + 1;
    const values = result.metrics[metric];
    const shown = Math.min(SHOWN_EXAMPLES, result.replicates);
    const groups = config.family === "coin"
      ? { "stuck at 1": [COLORS.at_one, []], "stuck at 0": [COLORS.at_zero, []],
          "not stuck yet": [COLORS.drifting, []] }
      : { replicates: [COLORS.example, []] };
    for (let r = 0; r < shown; r++) {
      let group = "replicates";
      if (config.family === "coin") {
        const last = values[r * width + upto];
        group = last === 1 ? "stuck at 1" : last === 0 ? "stuck at 0" : "not stuck yet";
      }
      groups[group][1].push(r);
    }
    const traces = [];
    for (const [name, [color, rows]] of Object.entries(groups)) {
      if (rows.length === 0) continue;
      const x = [], y = [];
      for (const r of rows) {
        for (let t = 0; t <= upto; t++) { x.push(t); y.push(values[r * width + t]); }
        x.push(null); y.push(null);
      }
      traces.push({ x, y, mode: "lines", name: `${name} (first ${shown} ${FAMILIES[config.family].noun})`,
                    line: { color: alpha(color, 0.55), width: 1 }, hoverinfo: "skip",
                    legendgroup: name, connectgaps: false });
    }
    return traces;
  }

  function metricTraces(result, prediction, config, metric, upto) {
    const width = result.generations + 1;
    const statsStart = performance.now();
    const stats = bands(result.metrics[metric], result.replicates, width, upto);
    timings.statistics = performance.now() - statsStart;
    const t = range(upto);
    const traces = exampleTraces(result, config, metric, upto);
    traces.push({ x: t, y: slice(stats.lower, upto), mode: "lines", line: { width: 0 },
                  showlegend: false, hoverinfo: "skip", name: "5%" });
    traces.push({ x: t, y: slice(stats.upper, upto), mode: "lines", line: { width: 0 },
                  fill: "tonexty", fillcolor: alpha(COLORS.main, 0.18),
                  name: `simulated 5–95% of ${result.replicates}`, hoverinfo: "skip" });
    traces.push({ x: t, y: slice(stats.median, upto), mode: "lines", name: "simulated median",
                  line: { color: COLORS.main, width: 2.2 } });
    traces.push({ x: t, y: slice(stats.mean, upto), mode: "lines", name: "simulated mean",
                  line: { color: COLORS.main, width: 1.4, dash: "dot" } });
    for (const curve of (prediction && prediction.curves[metric]) || []) {
      traces.push({ x: t, y: slice(curve.values, upto), mode: "lines", name: curve.label,
                    line: { color: COLORS.theory, width: 2, dash: "dash" } });
      if (curve.lower && curve.upper) {
        for (const [edge, first] of [[curve.lower, true], [curve.upper, false]]) {
          traces.push({ x: t, y: slice(edge, upto), mode: "lines",
                        name: curve.bandLabel || "exact band", legendgroup: "exact band",
                        showlegend: first, line: { color: COLORS.theory, width: 1.2, dash: "dot" } });
        }
      }
    }
    return traces;
  }

  function collapseTraces(result, prediction, config, upto) {
    const share = collapsedShare(result, config, upto);
    const t = range(upto);
    const traces = [{ x: t, y: slice(share.values, upto), mode: "lines",
                      name: `simulated: share of ${FAMILIES[config.family].noun} ${share.label}`,
                      line: { color: COLORS.main, width: 2.2, shape: "hv" } }];
    const exact = prediction && (prediction.absorbed || prediction.collapsed);
    if (exact) {
      traces.push({ x: t, y: slice(exact.values, upto), mode: "lines", name: exact.label,
                    line: { color: COLORS.theory, width: 2, dash: "dash", shape: "hv" } });
    }
    return traces;
  }

  // Milliseconds spent by the last update's parts (shown in data-timings for the browser test).
  const timings = {};

  function draw(result, prediction, config, upto) {
    // a metric this run does not record (a menu a step ahead of the run): the family's first
    const metric = result.metrics[state.metric] ? state.metric : FAMILIES[config.family].metrics[0];
    const drawStart = performance.now();
    const metricLayout = Object.assign({}, LAYOUT, {
      yaxis: Object.assign({}, LAYOUT.yaxis, { title: { text: metricWords(metric) },
                                               type: state.logScale ? "log" : "linear" }),
    });
    Plotly.react("mcx-metric", metricTraces(result, prediction, config, metric, upto),
                 metricLayout, { displaylogo: false, responsive: true });
    const collapseLayout = Object.assign({}, LAYOUT, {
      yaxis: Object.assign({}, LAYOUT.yaxis, { title: { text: "share" }, range: [0, 1.02] }),
    });
    Plotly.react("mcx-collapse", collapseTraces(result, prediction, config, upto),
                 collapseLayout, { displaylogo: false, responsive: true });
    timings.draw = performance.now() - drawStart;
  }

  function showFacts(prediction, result, config, elapsed) {
    const list = document.getElementById("mcx-facts");
    list.replaceChildren();
    const rows = [["simulated", `${result.replicates} ${FAMILIES[config.family].noun} × ` +
                   `${result.generations} generations (with theory) in ${elapsed.toFixed(0)} ms`]];
    if (prediction) {
      for (const [name, value] of Object.entries(prediction.facts || {})) {
        rows.push([`exact ${name}`, format(value)]);
      }
    }
    for (const [name, value] of rows) {
      list.appendChild(el("dt", { text: name }));
      list.appendChild(el("dd", { text: value }));
    }
    const notes = document.getElementById("mcx-notes");
    notes.replaceChildren();
    for (const note of (prediction && prediction.notes) || []) {
      notes.appendChild(el("li", { text: note }));
    }
  }

  // -- running -----------------------------------------------------------------------------------

  let pending = 0;
  let running = null;
  // Generations computed per animation frame for a stepped (slow) run.
  const FRAME_BUDGET_MS = 40;

  // When the change being drawn was made: the redraw time the page reports (data-last-update-ms
  // on #mcx-app, read by the browser test) runs from the control's event to the charts drawn.
  let changedAt = null;

  function schedule() {
    if (changedAt === null) changedAt = performance.now();
    if (pending) return;
    pending = requestAnimationFrame(() => { pending = 0; update(); });
  }

  function setStatus(text, isError) {
    const status = document.getElementById("mcx-status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function update() {
    let config;
    try {
      config = buildConfig();
    } catch (err) {
      setStatus(String(err.message || err), true);
      markReady();
      return;
    }
    writeHash();
    running = null;
    const started = changedAt === null ? performance.now() : changedAt;
    changedAt = null;
    const computeStart = performance.now();
    let prediction = null;
    try {
      prediction = MCX.theory.predict(config);
      timings.theory = performance.now() - computeStart;
    } catch (err) {
      prediction = { curves: {}, absorbed: null, facts: {}, notes: [`theory: ${err.message}`] };
    }
    let job;
    try {
      job = MCX.sim.start(config);
    } catch (err) {
      setStatus(String(err.message || err), true);
      markReady();
      return;
    }
    const me = { job };
    running = me;
    const finish = () => {
      const computed = performance.now();
      const elapsed = computed - computeStart;
      timings.simulation = elapsed - timings.theory;
      draw(job.result, prediction, config, job.result.generations);
      showFacts(prediction, job.result, config, elapsed);
      const now = performance.now();
      setStatus(`theory and simulation ${elapsed.toFixed(0)} ms, drawing ` +
                `${(now - computed).toFixed(0)} ms; ${(now - started).toFixed(0)} ms from ` +
                "the change to the charts", false);
      const app = document.getElementById("mcx-app");
      app.dataset.lastUpdateMs = String(now - started);
      app.dataset.lastComputeMs = String(elapsed);
      app.dataset.timings = JSON.stringify(timings);
      app.dataset.updates = String(Number(app.dataset.updates || 0) + 1);
      markReady();
    };
    const stepFrame = () => {
      if (running !== me) return;  // a newer change took over
      const frameStart = performance.now();
      let done = false;
      while (!done && performance.now() - frameStart < FRAME_BUDGET_MS) done = job.step(1);
      if (done) { finish(); return; }
      draw(job.result, prediction, config, job.generation);
      setStatus(`simulating… generation ${job.generation} of ${config.generations}`, false);
      requestAnimationFrame(stepFrame);
    };
    stepFrame();
  }

  function markReady() {
    if (document.body.dataset.reportReady !== "true") document.body.dataset.reportReady = "true";
  }

  // -- the address's #fragment: a setting one can send ------------------------------------------

  function writeHash() {
    const v = currentValues();
    const keys = ["n", "generations", "replicates", "seed", "policy", "real", "carry",
                  "synthetic", "ratio", ...CONTROLS.filter((c) => onFamily(c)).map((c) => c.id)];
    const params = new URLSearchParams();
    params.set("family", state.family);
    params.set("metric", state.metric);
    for (const key of new Set(keys)) {
      const value = v[key];
      if (value === undefined) continue;
      params.set(key, Array.isArray(value) ? value.join(",") : String(value));
    }
    try {
      history.replaceState(null, "", "#" + params.toString());
    } catch (err) {
      // file:// pages may refuse replaceState in some browsers: the fragment is a convenience.
    }
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const family = params.get("family");
    if (!family || !Object.prototype.hasOwnProperty.call(FAMILIES, family)) return;
    state.family = family;
    const values = state.values[family];
    for (const control of CONTROLS) {
      if (!params.has(control.id) || !onFamily(control, family)) continue;
      try {
        values[control.id] = parseControl(control, params.get(control.id), family);
      } catch (err) {
        // a hand-edited fragment with a bad value: keep the default
      }
    }
    const metric = params.get("metric");
    if (metric && metricsShown().includes(metric)) state.metric = metric;
  }

  function parseControl(control, text, family) {
    const [low, high] = controlRange(control, family);
    switch (control.kind) {
      case "select":
        if (!Object.prototype.hasOwnProperty.call(control.options, text)) {
          throw new Error(`must be one of ${Object.keys(control.options).join(", ")}`);
        }
        return text;
      case "checkbox":
        return text === true || text === "true";
      case "list":
        return parseList(text, { min: control.min, max: control.max,
                                 positive: control.positive });
      case "reward": {
        // kept as text: the simulator and theory read it as the package's --reward does
        const trimmed = String(text).trim();
        if (trimmed.length > 10000) throw new Error("is too long");
        return trimmed;
      }
      default:
        return parseNumber(text, { integer: control.integer, min: low, max: high });
    }
  }

  function onFamily(control, family) {
    return !control.families || control.families.includes(family || state.family);
  }

  // -- building the page -------------------------------------------------------------------------

  const inputs = {};

  function controlRow(control) {
    const id = `mcx-${control.id}`;
    const row = el("div", { class: "control", "data-control": control.id });
    row.appendChild(el("label", { for: id, text: control.label }));
    const box = el("div", { class: "inputs" });
    let main, text;
    if (control.kind === "select") {
      main = el("select", { id });
      for (const [value, words] of Object.entries(control.options)) {
        main.appendChild(el("option", { value, text: words }));
      }
      main.addEventListener("change", () => changed(control, main.value));
      box.appendChild(main);
    } else if (control.kind === "checkbox") {
      main = el("input", { id, type: "checkbox" });
      main.addEventListener("change", () => changed(control, main.checked));
      box.appendChild(main);
    } else if (control.kind === "list" || control.kind === "number" ||
               control.kind === "reward") {
      main = el("input", { id, type: "text", inputmode: "decimal", spellcheck: "false",
                           autocomplete: "off" });
      main.addEventListener("input", () => changed(control, main.value, true));
      box.appendChild(main);
    } else {
      main = el("input", { id, type: "range" });
      text = el("input", { id: `${id}-value`, type: "text", class: "value",
                           inputmode: "decimal", "aria-label": control.label });
      main.addEventListener("input", () => {
        const value = control.kind === "log" ? fromSlider(control, state.family, +main.value)
          : +main.value;
        text.value = String(value);
        changed(control, value);
      });
      text.addEventListener("input", () => changed(control, text.value, true));
      box.appendChild(main);
      box.appendChild(text);
    }
    const message = el("span", { class: "message", role: "status" });
    box.appendChild(message);
    row.appendChild(box);
    inputs[control.id] = { row, main, text, message };
    return row;
  }

  function changed(control, raw, typed) {
    const info = inputs[control.id];
    try {
      const value = typed ? parseControl(control, raw, state.family) : raw;
      currentValues()[control.id] = value;
      info.message.textContent = "";
      info.row.classList.remove("invalid");
      if (typed && info.text && control.kind !== "list") {
        info.main.value = String(control.kind === "log"
          ? toSlider(control, state.family, value) : value);
      }
    } catch (err) {
      const shown = String(raw).length > 60 ? `${String(raw).slice(0, 60)}…` : String(raw);
      info.message.textContent = `${control.label} ${err.message} (got "${shown}"); ` +
        "the charts keep the last valid setting";
      info.row.classList.add("invalid");
      return;  // the last valid setting stays on screen
    }
    if (["policy", "carry", "weighted", "curation"].includes(control.id)) refreshVisibility();
    if (["curation", "reward"].includes(control.id)) refreshMetricMenu();
    schedule();
  }

  function syncControls() {
    const family = state.family;
    const values = currentValues();
    for (const control of CONTROLS) {
      const info = inputs[control.id];
      info.message.textContent = "";
      info.row.classList.remove("invalid");
      const value = values[control.id];
      if (value === undefined) continue;
      if (control.kind === "checkbox") info.main.checked = Boolean(value);
      else if (control.kind === "list") info.main.value = value.join(", ");
      else if (control.kind === "select" || control.kind === "number" ||
               control.kind === "reward") {
        info.main.value = String(value);
      } else {
        const [low, high] = controlRange(control, family);
        if (control.kind === "log") {
          info.main.min = "0"; info.main.max = String(LOG_STEPS); info.main.step = "1";
          info.main.value = String(toSlider(control, family, value));
        } else {
          info.main.min = String(low); info.main.max = String(high);
          info.main.step = String(control.step);
          info.main.value = String(value);
        }
        info.text.value = String(value);
      }
    }
    inputs.n.row.querySelector("label").textContent = FAMILIES[family].size;
    refreshMetricMenu();
    document.getElementById("mcx-log").checked = state.logScale;
    const story = document.getElementById("mcx-story");
    story.replaceChildren(...FAMILIES[family].story.map((p) => el("p", { text: p })));
    for (const button of document.querySelectorAll("#mcx-tabs button")) {
      button.setAttribute("aria-selected", String(button.dataset.family === family));
    }
    refreshVisibility();
  }

  // The metrics a run records: the family's, `reward` with a reward set and `accept_rate` when
  // a curator selects (as the package records them).
  function metricsShown() {
    const values = currentValues();
    const names = FAMILIES[state.family].metrics.slice();
    if (curated(values) && values.reward) names.push("reward");
    if (curated(values)) names.push("accept_rate");
    return names;
  }

  function refreshMetricMenu() {
    const select = document.getElementById("mcx-metric-select");
    const names = metricsShown();
    if (!names.includes(state.metric)) state.metric = names[0];
    select.replaceChildren();
    for (const name of names) {
      select.appendChild(el("option", { value: name, text: metricWords(name) }));
    }
    select.value = state.metric;
  }

  function refreshVisibility() {
    const values = currentValues();
    for (const control of CONTROLS) {
      const shown = onFamily(control) && (!control.visible || control.visible(values));
      inputs[control.id].row.hidden = !shown;
    }
  }

  function chooseFamily(family, preset) {
    state.family = family;
    if (preset) state.values[family] = Object.assign(defaultsFor(family), preset);
    state.metric = FAMILIES[family].metrics[0];
    state.logScale = false;
    syncControls();
    schedule();
  }

  const PRESETS = [
    { label: "The classic coin: k = 10, 60 generations, 100 rollouts", family: "coin",
      values: { n: 10, generations: 60, replicates: 100, p0: 0.5 } },
    { label: "The classic mixture (means −2 and 2), scaled to N = 1000, 200 generations",
      family: "gmm", values: { n: 1000, generations: 200, replicates: 10 } },
    { label: "Fresh real data stops the Gaussian's collapse (mix, a = 10%)", family: "gaussian",
      values: { policy: "mix", real: 0.1 } },
    { label: "A verifier that believes the truth still narrows the Gaussian", family: "gaussian",
      values: { curation: "verifier", strictness: 1, generations: 50 } },
  ];

  function build() {
    const app = document.getElementById("mcx-app");
    const header = el("header", {}, [
      el("h1", { text: "Watch the loop collapse" }),
      el("p", { class: "lede", text: "Each generation, a model is fitted to data, and the " +
        "next generation's data are sampled from that fit. Move a control and the page " +
        "reruns the loop in your browser: thin lines are single runs, the blue band holds " +
        "90% of them, and the dashed magenta lines are what exact theory predicts." }),
    ]);
    const tabs = el("div", { id: "mcx-tabs", role: "tablist" });
    for (const [family, info] of Object.entries(FAMILIES)) {
      const button = el("button", { type: "button", role: "tab", "data-family": family,
                                    text: info.title });
      button.addEventListener("click", () => chooseFamily(family));
      tabs.appendChild(button);
    }
    const presets = el("div", { id: "mcx-presets" }, [el("span", { text: "Load: " })]);
    for (const preset of PRESETS) {
      const button = el("button", { type: "button", class: "preset", text: preset.label });
      button.addEventListener("click", () => chooseFamily(preset.family, preset.values));
      presets.appendChild(button);
    }
    const controls = el("form", { id: "mcx-controls", autocomplete: "off" });
    controls.addEventListener("submit", (event) => event.preventDefault());
    for (const control of CONTROLS) controls.appendChild(controlRow(control));
    const metricSelect = el("select", { id: "mcx-metric-select" });
    metricSelect.addEventListener("change", () => { state.metric = metricSelect.value; schedule(); });
    const logBox = el("input", { id: "mcx-log", type: "checkbox" });
    logBox.addEventListener("change", () => { state.logScale = logBox.checked; schedule(); });
    const charts = el("div", { id: "mcx-charts" }, [
      el("div", { class: "chart-head" }, [
        el("label", { for: "mcx-metric-select", text: "show " }), metricSelect,
        el("label", { class: "log", for: "mcx-log" }, [logBox, el("span", { text: " log scale" })]),
      ]),
      el("div", { id: "mcx-metric", class: "mc-chart", "data-title": "trajectories" }),
      el("h3", { text: "How many have collapsed" }),
      el("div", { id: "mcx-collapse", class: "mc-chart", "data-title": "collapsed share" }),
      el("p", { id: "mcx-status", class: "status", role: "status" }),
      el("dl", { id: "mcx-facts", class: "facts" }),
      el("ul", { id: "mcx-notes", class: "notes" }),
    ]);
    const about = el("section", { id: "mcx-about" }, [
      el("h2", { text: "What you are looking at" }),
      el("div", { id: "mcx-story" }),
      el("p", { text: "Curation changes only the model's part of each training set, as the " +
        "literature's loops do: best-of K keeps one of K candidates, chosen in proportion to " +
        "exp(reward) (a preference model); a verifier keeps a candidate with probability " +
        "ε + (1 − ε)(b(x)/max b)^s, b its belief (the truth, or the truth moved by δ); top and " +
        "bottom keep the most or least likely candidates under the model (likelihood " +
        "filtering); reweight resamples them by their likelihood ratio. Selection is not fresh " +
        "data: a verifier that believes the truth multiplies the Gaussian's density by the " +
        "truth's every generation, so precisions add and the variance falls at least as fast " +
        "as 1/t (try the preset)." }),
      el("p", { class: "muted", text: "Everything here follows the definitions of the " +
        `modelcollapse Python package (version ${settings.version}): the same group sizes, ` +
        "estimators, policies and exact theory, and the page's simulators and theory are " +
        "tested against it. For the full-size classic experiments, many more replicates, " +
        "sweeps and reports, use its command line: modelcollapse run." }),
    ]);
    app.replaceChildren(header, tabs, presets, el("div", { id: "mcx-body" }, [controls, charts]),
                        about);
  }

  function init() {
    for (const family of Object.keys(FAMILIES)) state.values[family] = defaultsFor(family);
    build();
    readHash();
    if (!metricsShown().includes(state.metric)) {
      state.metric = metricsShown()[0];
    }
    syncControls();
    update();
  }

  ui.init = init;
  ui.buildConfig = buildConfig;
  ui.state = state;
  if (typeof module !== "undefined") module.exports = ui;
  if (typeof document !== "undefined") {
    try {
      init();
    } catch (err) {
      document.getElementById("mcx-app").textContent = `The explorer failed to start: ${err}`;
      document.body.dataset.reportReady = "true";
      throw err;
    }
  }
})();
