// sim.js: MCX.sim, the generation loop of modelcollapse (loop.py, policies.py) in the browser.
//
// API
//   MCX.sim.run(config) → result, the whole run at once.
//   MCX.sim.start(config) → job: job.step(k) advances k more generations (all replicates) and
//   returns true when the run is done; job.stepFor(ms) advances whole generations for about ms
//   milliseconds (at least one). job.result is the result object, filled up to job.generation
//   (later entries are NaN until computed). MCX.sim.normalize(config) validates a config and
//   returns it with every default filled in (throws Error naming the field otherwise).
//   result = { generations: G, replicates: R, metrics: { name: Float64Array(R·(G + 1)) },
//              absorbed: Float64Array(G + 1) | null }; replicate r, generation t at r·(G+1) + t.
//
// Semantics (DESIGN §2, mirrored from the Python package)
//   Generation 0 holds the truth's own metrics. Training set 1 is N fresh samples of the truth;
//   every later one is built by the policy from fresh truth, samples of model t − 1 and earlier
//   data, with the group sizes of MCX.theory.pieces (policies.py's Mix.split, fraction_count):
//     replace               N samples of model t − 1;
//     mix (a, b)            ⌊aN⌋ fresh, ⌊bN⌋ model, the rest carried over WITHOUT replacement
//                           from training set t − 1 (b = null: the model supplies all the rest);
//     accumulate (a)        training set t − 1 plus N new samples, ⌊aN⌋ of them fresh (grows);
//     accumulate-subsample  the pool grows as under accumulate (training set 1 plus each
//                           generation's N new samples); training set t is N of the pool drawn
//                           without replacement (the pool, not the subsample, is kept);
//     augment (λ)           the real set (training set 1) kept for ever plus ⌊λN⌋ model samples.
//   The model is sampled with its sampling bias (families/discrete.py's tempered for the coin and
//   the categorical, q^(1/τ) renormalised; the Gaussian's and each mixture component's standard
//   deviation times λ); the truth never is.
//
// Curation, rewards and weighted fits (curation.py, rewards.py, loop.py; the section
// "curation" below has the curators' laws and their exact shortcuts)
//   config.curation none | best-of (k) | verifier (strictness, shift, false_accept) | top, bottom
//   (keep) | reweight (keep, power) curates only the model's group of a training set (its S
//   samples of model t − 1), never fresh or carried-over data nor training set 1. An identity
//   curator (best-of K = 1, top/bottom q = 1, a verifier of strictness 0 or false-accept rate 1)
//   is the uncurated run, number for number. config.reward is the package's --reward text (coin
//   "r0,r1"; categorical "rank", "truth" or V values, text or an array; gaussian and gmm "truth"
//   or "target:c"); best-of without one takes the family's default ("truth"; the coin has none
//   and is refused). Metrics, as the package records them: `reward` = E_model r of the fitted
//   model (generation 0 the truth's) whenever a reward is set, and `accept_rate` = S / the
//   candidates drawn (1 at generations 0 and 1 and wherever no model sample is curated) whenever
//   a curator selects. config.real_weight w (null: unweighted) gives the weighted fits: the
//   real samples (fresh truth, training set 1 and whatever of them is carried over or
//   subsampled, each sample's provenance kept) together weigh W_r = w and the synthetic ones
//   1 − w, each part's samples equally (part_weights: a part absent takes no weight): coin and
//   categorical q = W_r c^r/n_r + W_s c^s/n_s (discrete.frequencies), gaussian mean = W_r m_r +
//   W_s m_s, var = W_r v_r + W_s v_s + W_r W_s (m_r − m_s)² (weighted_normal_fit), gmm weighted
//   plain EM from the warm start (gmm/weighted.py). It needs real data in every training set
//   (not replace, not mix with ⌊aN⌋ = 0) and the MLE (gaussian), as the package requires.
//
// Exact shortcuts (the same law as drawing every sample)
//   coin         a training set is its head count: fresh and model groups are binomial, the
//                carried-over or subsampled tosses hypergeometric given the counts they come from.
//   categorical  a training set is its token counts: multinomial groups, multivariate
//                hypergeometric carry-over and subsamples (training_sets.Counts).
//   gaussian     under replace, mix without carry-over, accumulate and augment a group of m draws
//                from N(μ, s²) is its mean ~ N(μ, s²/m) and centred sum of squares ~ s² χ²_{m−1},
//                independent (Cochran), pooled exactly (Chan et al.); the package's Moments. Mix
//                with carry-over and accumulate-subsample subsample points, so they keep points.
//   gmm          no sufficient statistic: points, fitted by EM.
//
// Fits and metrics (as the package computes them)
//   coin p̂ = heads / size; metric p; absorbed[t] = share of replicates with p̂ ∈ {0, 1} at
//   some s ≤ t (generation 0 included).
//   gaussian: the sample mean, var = SS/n (mle) or SS/(n − 1) (unbiased), n the training set's
//   size; a fit that overflows (only with λ > 1) is "blown up": var = ∞, the last finite mean
//   kept, absorbing, as in families/gaussian.py. Metrics mean, var.
//   categorical: q̂ = counts / size; entropy = −Σ q̂ ln q̂ (nats), support = #{q̂ > 0},
//   gini_simpson = 1 − Σ q̂².
//   gmm: the maximum-likelihood fit as the numba backend computes it by default (em.py's
//   _fit_accelerated, ported routine by routine): warm-started from the previous fit
//   (generation 1 from the truth), coinciding components of the start split first
//   (warm_start.split_coinciding); one live component in closed form; two by Newton's method
//   (stopping when its decrement, the mean log-likelihood a step would gain, is below 1e−10),
//   Levenberg–Marquardt where the likelihood is not concave; anything else by SQUAREM-
//   accelerated EM (scheme S3, stopping when the mean log-likelihood gains less than 1e−10);
//   at most 10 000 E-steps; every variance floored at 1e−6 (max(σ², floor), as its M-step);
//   components sorted by mean. On the same data and start it agrees with the package to
//   about 1e−9. Metrics mean and var of the mixture (var = Σ w (σ² + (μ − mean)²)), and
//   mean_i, std_i, weight_i per component.
//
// Randomness: replicate r draws every number from MCX.random.stream(seed, r), so replicate r is
// the same whatever the number of replicates, and stepping in any chunks gives the same numbers.
(function () {
  "use strict";

  // A mixture's parameters th = [weights, means, variances] (K each) sorted by mean in place, as
  // the package reports components: an insertion sort (K is tiny) moving the three together.
  function sortComponentsByMean(th, K) {
    for (let i = 1; i < K; i++) {
      for (let j = i; j > 0 && th[K + j - 1] > th[K + j]; j--) {
        for (const block of [0, K, 2 * K]) {
          const kept = th[block + j - 1];
          th[block + j - 1] = th[block + j];
          th[block + j] = kept;
        }
      }
    }
  }
  const root = typeof window !== "undefined" ? window : globalThis;
  const MCX = (root.MCX = root.MCX || {});

  const FAMILIES = ["coin", "gaussian", "categorical", "gmm"];
  const POLICIES = ["replace", "mix", "accumulate", "accumulate-subsample", "augment"];
  const LIMITS = {
    n: 1e7, generations: 1e6, replicates: 1e6, vocab: 1e6, components: 40,
    temperature: [1e-3, 1e3], scale: [1e-3, 1e3], location: 1e50, std: [1e-50, 1e50],
    augment: 1e6, zipf: 1e3,
  };
  // Working memory a run may take (typed arrays), so a config cannot freeze the page.
  const MAX_BYTES = 1.5 * 2 ** 30;

  const GMM_TOL = 1e-10;
  const GMM_MAX_ITER = 10000;
  const GMM_VAR_FLOOR = 1e-6;
  // A component whose responsibilities sum to less than this is dead (em.py's EMPTY).
  const EMPTY = 1e-12;
  // Beyond this log-density gap the smaller responsibility is taken as e^−50 (em.py's _GAP).
  const GAP = 50;
  // Components whose means differ by ≤ TIE sd and variances by ≤ TIE relatively coincide.
  const TIE = 1e-8;
  // Samples beyond this magnitude mean the model has blown up (families/gmm BLOWN_UP).
  const BLOWN_UP = 1e150;
  const LN_SQRT_2PI = 0.9189385332046728;
  const LN_2PI = 1.8378770664093453;

  // Curation (curation.py): the curators, the verifier's budget of MAX_CANDIDATES · S
  // candidates, best-of's largest K and top/bottom/reweight's smallest q (1/MAX_K).
  const CURATIONS = ["none", "best-of", "verifier", "top", "bottom", "reweight"];
  const MAX_CANDIDATES = 64;
  const MAX_K = 1000;
  // The largest reward magnitude a list or a target may hold (rewards.py's MAX_REWARD).
  const MAX_REWARD = 1e6;
  // The smallest positive double: a collapsed normal's variance is read as this in a log
  // density (continuous.py's normal_logpdf), so its own samples score finitely.
  const TINY = 2.2250738585072014e-308;
  // The trapezoidal rule of continuous.normal_expectation (E_model of the truth reward of the
  // mixture): nodes z = −13, −12.95, …, 13, weights h φ(z).
  const QUADRATURE_STEP = 0.05;
  const QUADRATURE_HALF_WIDTH = 13.0;

  // -- validation -----------------------------------------------------------------------------

  function shown(value) {
    let text;
    try {
      if (typeof value === "string") text = JSON.stringify(value);
      else if (Array.isArray(value)) text = "[" + value.map((v) => String(v)).join(", ") + "]";
      else text = String(value);
    } catch (error) {
      text = "a value that cannot be shown";
    }
    return text.length > 60 ? text.slice(0, 57) + "..." : text;
  }

  function refuse(field, allowed, value) {
    throw new Error(`${field} must be ${allowed} (got ${shown(value)})`);
  }

  function given(config, field, fallback) {
    const value = config[field];
    return value === undefined ? fallback : value;
  }

  function integerField(config, field, low, high, allowed, fallback) {
    const value = given(config, field, fallback);
    if (typeof value !== "number" || !Number.isInteger(value) || value < low || value > high) {
      refuse(field, allowed, value);
    }
    return value;
  }

  function numberField(config, field, low, high, allowed, fallback, lowOpen = false) {
    const value = given(config, field, fallback);
    if (typeof value !== "number" || !Number.isFinite(value) || value > high ||
        (lowOpen ? value <= low : value < low)) {
      refuse(field, allowed, value);
    }
    return value;
  }

  function listField(config, field, fallback) {
    const value = given(config, field, fallback);
    const list = ArrayBuffer.isView(value) ? Array.from(value) : value;
    if (!Array.isArray(list) || list.length < 1 || list.length > LIMITS.components ||
        !list.every((v) => typeof v === "number" && Number.isFinite(v))) {
      refuse(field, `a list of 1 to ${LIMITS.components} finite numbers`, value);
    }
    return list.slice();
  }

  // The config with every setting checked and every default filled in (a new object).
  function normalize(config) {
    if (config === null || typeof config !== "object") refuse("config", "an object", config);
    const family = given(config, "family", undefined);
    if (!FAMILIES.includes(family)) refuse("family", `one of ${FAMILIES.join(", ")}`, family);
    const policy = given(config, "policy", "replace");
    if (!POLICIES.includes(policy)) refuse("policy", `one of ${POLICIES.join(", ")}`, policy);
    const out = { family, policy };
    out.n = integerField(config, "n", 1, LIMITS.n, "an integer between 1 and 10^7", undefined);
    out.generations = integerField(config, "generations", 1, LIMITS.generations,
                                   "an integer between 1 and 10^6", undefined);
    out.replicates = integerField(config, "replicates", 1, LIMITS.replicates,
                                  "an integer between 1 and 10^6", undefined);
    out.seed = integerField(config, "seed", 0, 2 ** 32 - 1,
                            "an integer between 0 and 2^32 − 1", undefined);
    out.real = numberField(config, "real", 0, 1, "a fraction between 0 and 1", 0);
    const synthetic = given(config, "synthetic", null);
    out.synthetic = null;
    if (policy === "mix" && synthetic !== null) {
      out.synthetic = numberField(config, "synthetic", 0, 1, "null or a fraction between 0 and 1",
                                  null);
      if (out.real + out.synthetic > 1 + 1e-12) {
        throw new Error(`real + synthetic must be at most 1 under mix (got ${shown(out.real)} + ` +
                        `${shown(out.synthetic)} = ${shown(out.real + out.synthetic)})`);
      }
    } else if (policy === "augment") {
      out.synthetic = synthetic === null ? 1.0 : numberField(
        config, "synthetic", 0, LIMITS.augment,
        "null or a number between 0 and 1e6 (synthetic samples per real sample)", null);
    }
    const [tLow, tHigh] = LIMITS.temperature;
    const [sLow, sHigh] = LIMITS.scale;
    if (family === "coin") {
      out.p0 = numberField(config, "p0", 0, 1, "a probability between 0 and 1", 0.5);
      out.temperature = numberField(config, "temperature", tLow, tHigh,
                                    "a number between 0.001 and 1000", 1);
    } else if (family === "categorical") {
      out.vocab = integerField(config, "vocab", 2, LIMITS.vocab,
                               "an integer between 2 and 10^6", 100);
      out.zipf = numberField(config, "zipf", 0, LIMITS.zipf, "a number between 0 and 1000", 1);
      out.temperature = numberField(config, "temperature", tLow, tHigh,
                                    "a number between 0.001 and 1000", 1);
    } else if (family === "gaussian") {
      out.mean = numberField(config, "mean", -LIMITS.location, LIMITS.location,
                             "a number between -1e50 and 1e50", 0);
      out.std = numberField(config, "std", 0, LIMITS.std[1],
                            "a number > 0 and at most 1e50", 1, true);
      if (out.std < LIMITS.std[0] || out.std < 1e-10 * Math.abs(out.mean) * (1 - 1e-12)) {
        refuse("std", "at least 1e-50 and at least 1e-10 × |mean| (float64 cannot resolve a " +
               "narrower normal)", out.std);
      }
      out.estimator = given(config, "estimator", "mle");
      if (out.estimator !== "mle" && out.estimator !== "unbiased") {
        refuse("estimator", "mle or unbiased", out.estimator);
      }
      if (out.estimator === "unbiased" && out.n < 2) {
        refuse("n", "at least 2 for the unbiased estimator", out.n);
      }
      out.scale = numberField(config, "scale", sLow, sHigh, "a number between 0.001 and 1000", 1);
    } else {
      const means = listField(config, "means", [-2, 2]);
      const k = means.length;
      const stds = listField(config, "stds", new Array(k).fill(1));
      const weights = listField(config, "weights", new Array(k).fill(1 / k));
      for (const [field, list] of [["stds", stds], ["weights", weights]]) {
        if (list.length !== k) refuse(field, `a list of ${k} numbers, one per mean`, list);
      }
      means.forEach((m) => {
        if (Math.abs(m) > LIMITS.location) refuse("means", "numbers between -1e50 and 1e50", means);
      });
      stds.forEach((s, i) => {
        if (!(s >= LIMITS.std[0] && s <= LIMITS.std[1]) ||
            s < 1e-10 * Math.abs(means[i]) * (1 - 1e-12)) {
          refuse("stds", "numbers > 0 between 1e-50 and 1e50, each at least 1e-10 × |its mean|",
                 stds);
        }
      });
      const total = weights.reduce((a, b) => a + b, 0);
      if (weights.some((w) => w < 0) || Math.abs(total - 1) > 1e-9) {
        refuse("weights", "numbers ≥ 0 that sum to 1", weights);
      }
      if (out.n < k) refuse("n", `at least the number of components (${k})`, out.n);
      // Components sorted by mean (stably), weights normalised: families/gmm's truth.
      const order = means.map((_, i) => i).sort((i, j) => means[i] - means[j] || i - j);
      out.means = order.map((i) => means[i]);
      out.stds = order.map((i) => stds[i]);
      out.weights = order.map((i) => weights[i] / total);
      out.scale = numberField(config, "scale", sLow, sHigh, "a number between 0.001 and 1000", 1);
    }
    normalizeCuration(config, out);
    const bytes = workingBytes(out);
    if (bytes > MAX_BYTES) {
      throw new Error(`replicates × generations × n is too large for the page (about ` +
                      `${Math.round(bytes / 2 ** 20)} MiB of working memory; at most ` +
                      `${Math.round(MAX_BYTES / 2 ** 20)} MiB)`);
    }
    return out;
  }

  // Python's float() of one item of a reward list: decimal numbers (underscores between digits
  // allowed), inf, infinity and nan; NaN (not a number at all) for anything else. Number()
  // alone would take "" as 0 and "0x10" as 16.
  const DECIMAL = /^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?$/;
  function pythonFloat(text) {
    const word = text.toLowerCase().replace(/^[+-]/, "");
    if (word === "inf" || word === "infinity") return text[0] === "-" ? -Infinity : Infinity;
    if (word === "nan") return Infinity; // refused below as not finite, like Python's nan
    return DECIMAL.test(text) ? Number(text.replace(/_/g, "")) : NaN;
  }

  // reward_values: a comma list of exactly `count` finite numbers within ±MAX_REWARD.
  function rewardList(spec, count, what) {
    const items = Array.isArray(spec) ? spec : spec.split(",").map((item) => item.trim());
    const values = items.map((item) => (typeof item === "number" ? item
      : typeof item === "string" ? pythonFloat(item) : NaN));
    if (values.some((v) => Number.isNaN(v))) refuse("reward", what, spec);
    if (values.length !== count) refuse("reward", `${what}; ${values.length} given`, spec);
    if (values.some((v) => !Number.isFinite(v) || Math.abs(v) > MAX_REWARD)) {
      refuse("reward", `finite numbers within ±${MAX_REWARD.toExponential().replace("+", "")}`,
             spec);
    }
    return values;
  }

  const CONTINUOUS_REWARDS = "truth (the truth's log density) or target:c (-(x - c)^2 / 2)";

  // The reward as the family takes it (Family.reward): the text, trimmed (a categorical list may
  // also be given as an array of numbers). Throws naming `reward` for one it refuses.
  function checkReward(cfg, reward) {
    const family = cfg.family;
    if (family === "categorical" && (Array.isArray(reward) || ArrayBuffer.isView(reward))) {
      const list = Array.from(reward);
      rewardList(list, cfg.vocab, `${cfg.vocab} comma-separated numbers (one per token), ` +
                 "rank or truth");
      return list;
    }
    const words = {
      coin: "r0,r1 (the rewards of tails and heads)",
      categorical: "V comma-separated values, rank (r_v = -v/V) or truth (log q_v)",
      gaussian: CONTINUOUS_REWARDS, gmm: CONTINUOUS_REWARDS,
    }[family];
    if (typeof reward !== "string" || !reward.trim()) refuse("reward", `text: ${words}`, reward);
    const spec = reward.trim();
    if (family === "coin") {
      rewardList(spec, 2, "2 numbers r0,r1 (the rewards of tails and heads)");
    } else if (family === "categorical") {
      if (spec === "truth") {
        const q = zipfProbabilities(cfg.vocab, cfg.zipf);
        if (q.some((x) => !(x > 0))) {
          refuse("reward", "rank or a list when a true probability is 0 (truth needs log q_v " +
                 "finite for every token; this Zipf truth underflows)", spec);
        }
      } else if (spec !== "rank") {
        if (!spec.includes(",") && Number.isNaN(pythonFloat(spec))) {
          refuse("reward", `${cfg.vocab} comma-separated values, rank (r_v = -v/V) or truth ` +
                 "(log q_v) for family categorical", spec);
        }
        rewardList(spec, cfg.vocab, `${cfg.vocab} comma-separated numbers (one per token), ` +
                   "rank or truth");
      }
    } else if (spec !== "truth") {
      if (!spec.startsWith("target:")) {
        refuse("reward", `${CONTINUOUS_REWARDS} for family ${family}`, spec);
      }
      const c = pythonFloat(spec.slice("target:".length).trim());
      if (!Number.isFinite(c) || Math.abs(c) > MAX_REWARD) {
        refuse("reward", "target:c with c a finite number within ±1e6", spec);
      }
    }
    return spec;
  }

  // Whether the curator selects at all: best-of K = 1, a verifier of strictness 0 or
  // false-accept rate 1, and top/bottom keeping q = 1 keep every draw as it is (is_identity),
  // and the run is then the uncurated one exactly (numbers and metrics).
  function curationActive(cfg) {
    switch (cfg.curation) {
      case "best-of": return cfg.k !== 1;
      case "verifier": return cfg.strictness !== 0 && cfg.false_accept !== 1;
      case "top":
      case "bottom": return cfg.keep !== 1;
      case "reweight": return true;
      default: return false;
    }
  }

  // The curation settings, the reward and the weighted fit, checked as curation.py's
  // __post_init__ checks, rewards.py and config.py's refusals check them, into out. Only the
  // chosen curator's settings are read (the page sends every control's value); the others keep
  // their defaults.
  function normalizeCuration(config, out) {
    const family = out.family;
    const curation = given(config, "curation", "none");
    if (!CURATIONS.includes(curation)) {
      refuse("curation", `one of ${CURATIONS.join(", ")}`, curation);
    }
    Object.assign(out, { curation, k: 4, keep: 0.5, strictness: 1, shift: 0, false_accept: 0,
                         power: 1 });
    if (curation === "best-of") {
      out.k = integerField(config, "k", 1, MAX_K, "an integer between 1 and 1000", 4);
    }
    if (curation === "top" || curation === "bottom" || curation === "reweight") {
      out.keep = numberField(config, "keep", 1 / MAX_K, 1,
                             "a fraction between 0.001 and 1 (the share kept)", 0.5);
    }
    if (curation === "verifier") {
      out.strictness = numberField(config, "strictness", 0, 1e6, "a number between 0 and 1e6", 1);
      out.shift = numberField(config, "shift", -1e6, 1e6, "a number between -1e6 and 1e6", 0);
      out.false_accept = numberField(config, "false_accept", 0, 1,
                                     "a probability between 0 and 1", 0);
      if (out.shift !== 0 && (family === "coin" || family === "categorical")) {
        refuse("shift", `0 for family ${family} (a shift applies to continuous families: a ` +
               "discrete verifier's belief is the truth; a false-accept rate makes it noisy)",
               out.shift);
      }
    }
    if (curation === "reweight") {
      out.power = numberField(config, "power", 0, 1e3, "a number between 0 and 1000", 1);
    }
    const reward = given(config, "reward", null);
    if (reward !== null) {
      out.reward = checkReward(out, reward);
    } else if (curation === "best-of" && curationActive(out)) {
      // best-of scores by the family's default reward; the coin has none (config.py).
      if (family === "coin") {
        throw new Error("reward is needed by best-of curation for family coin: r0,r1 (the " +
                        "rewards of tails and heads) (got null)");
      }
      out.reward = "truth";
    } else {
      out.reward = null;
    }
    const weight = given(config, "real_weight", null);
    out.real_weight = weight === null ? null
      : numberField(config, "real_weight", 0, 1, "null or a number between 0 and 1", null);
    if (out.real_weight !== null) {
      if (family === "gaussian" && out.estimator === "unbiased") {
        refuse("estimator", "mle when real data are weighted (the weighted fit is a " +
               "maximum-likelihood fit)", out.estimator);
      }
      if (out.policy === "replace" || (out.policy === "mix" && MCX.theory.pieces(out).real === 0)) {
        throw new Error("real_weight needs real data in every training set: a policy that adds " +
                        "fresh truth (mix with real > 0, at least one sample) or keeps the " +
                        "real set (accumulate, accumulate-subsample, augment), not " +
                        `${out.policy} with real = ${shown(out.real)} ` +
                        `(got ${shown(out.real_weight)})`);
      }
    }
  }

  // Bytes of typed arrays a run allocates (metrics, state, kept points).
  function workingBytes(cfg) {
    const r = cfg.replicates;
    const g = cfg.generations;
    let bytes = 8 * r * (g + 1) * metricNames(cfg).length + 64 * r;
    const pointsKept = (cfg.policy === "accumulate" || cfg.policy === "accumulate-subsample")
      ? cfg.n * g : cfg.n + (cfg.policy === "augment" ? cfg.n * cfg.synthetic : 0);
    const weighted = cfg.real_weight !== null;
    if (cfg.family === "categorical") bytes += 8 * (weighted ? 4 : 3) * r * cfg.vocab;
    if (cfg.family === "gmm") bytes += (weighted ? 9 : 8) * r * (pointsKept + cfg.n);
    if (cfg.family === "gaussian" && cfg.policy === "accumulate-subsample") {
      bytes += (weighted ? 9 : 8) * r * pointsKept;
    }
    if (cfg.family === "gaussian" && cfg.policy === "mix") bytes += (weighted ? 9 : 8) * r * cfg.n;
    if (curationActive(cfg) && (cfg.family === "gaussian" || cfg.family === "gmm")) {
      // one generation's candidates and their scores (top, bottom, reweight: ⌈S/q⌉ of them)
      bytes += 24 * candidateCount(cfg.n, cfg.keep) + 16 * cfg.n;
    }
    return bytes;
  }

  // m = ⌈S/q⌉ candidates (at most MAX_K · S): top's, bottom's and reweight's.
  function candidateCount(units, keep) {
    return Math.min(Math.ceil(units / keep - 1e-9), MAX_K * units);
  }

  function metricNames(cfg) {
    let names;
    switch (cfg.family) {
      case "coin": names = ["p"]; break;
      case "gaussian": names = ["mean", "var"]; break;
      case "categorical": names = ["gini_simpson", "support", "entropy"]; break;
      default: {
        const k = (cfg.means || [-2, 2]).length;
        names = ["var", "mean"];
        for (const part of ["mean", "std", "weight"]) {
          for (let i = 0; i < k; i++) names.push(`${part}_${i}`);
        }
      }
    }
    // curation_metric_names: reward when one is set, accept_rate when a curator selects.
    if (cfg.reward !== null && cfg.reward !== undefined) names.push("reward");
    if (cfg.curation !== undefined && curationActive(cfg)) names.push("accept_rate");
    return names;
  }

  // -- shared pieces ----------------------------------------------------------------------------

  // Moves a uniformly random m-subset of data[offset .. offset + size) to its first m places
  // (a partial Fisher–Yates shuffle): every m-subset equally likely, whatever the order before.
  function chooseWithoutReplacement(gen, data, offset, size, m) {
    for (let i = 0; i < m; i++) {
      const j = i + gen.uniformInt(size - i);
      const kept = data[offset + i];
      data[offset + i] = data[offset + j];
      data[offset + j] = kept;
    }
  }

  // The coin's probability of heads at temperature τ: discrete.tempered on [1 − p, p].
  function temperedHeads(p, tau) {
    if (tau === 1 || p <= 0 || p >= 1) return p;
    const l1 = Math.log(p) / tau;
    const l0 = Math.log(1 - p) / tau;
    const top = Math.max(l0, l1);
    const e1 = Math.exp(l1 - top);
    return e1 / (Math.exp(l0 - top) + e1);
  }

  // q^(1/τ) renormalised into out (discrete.tempered): computed in logs, largest term first.
  function temperedProbabilities(q, offset, k, tau, out) {
    if (tau === 1) {
      for (let v = 0; v < k; v++) out[v] = q[offset + v];
      return;
    }
    let top = -Infinity;
    for (let v = 0; v < k; v++) {
      const p = q[offset + v];
      out[v] = p > 0 ? Math.log(p) / tau : -Infinity;
      if (out[v] > top) top = out[v];
    }
    let total = 0;
    for (let v = 0; v < k; v++) {
      out[v] = out[v] === -Infinity ? 0 : Math.exp(out[v] - top);
      total += out[v];
    }
    for (let v = 0; v < k; v++) out[v] /= total;
  }

  function makeStreams(seed, count) {
    const streams = new Array(count);
    for (let r = 0; r < count; r++) streams[r] = MCX.random.stream(seed, r);
    return streams;
  }

  // -- curation ---------------------------------------------------------------------------------
  //
  // The curators of curation.py, applied where loop.py applies them: to the model's group of a
  // training set only (the S units of model t − 1 a policy asks for, drawn with the sampling
  // bias), never to fresh or carried-over data, never to training set 1. Each returns the S
  // kept units (a head count, token counts added to a target, or points written out) and the
  // number of candidates it drew: accept_rate = S / candidates (1 where nothing was curated).
  //
  //   best-of K   K candidates per kept unit, one kept with probability ∝ e^{r(x)} (the weights
  //               e^{r − max r} of its K, _softmax_cumulative), by inversion;
  //   verifier    candidates accepted with probability a(x) = ε + (1 − ε)(b(x)/max b)^s, the
  //               first S accepted kept; after B = MAX_CANDIDATES · S candidates a replicate
  //               still short keeps its accepted ones and is filled with its earliest rejected
  //               (its candidates B);
  //   top/bottom  m = ⌈S/q⌉ candidates, the S most (least) likely under the fitted model kept,
  //               ties to the earlier draw;
  //   reweight    m candidates, S resampled with replacement with weights (p_truth/p_proposal)^β
  //               (p_proposal the model with its sampling bias, the law they were drawn from).
  //
  // Exact shortcuts (the same law as the package's draws, not an approximation):
  //   coin         best-of keeps independent tosses, heads with probability
  //                g(p̃) = Σ_j Bin(j; K, p̃) · j e1/(j e1 + (K − j) e0), e_x = e^{r_x − max r}:
  //                Bin(S, g(p̃)). The verifier's kept tosses are i.i.d. of the accepted law
  //                p̃ a1/α (α = p̃ a1 + (1 − p̃) a0) given the count of acceptances, and a
  //                replicate's candidates are T = S + NegBin(S, α) failures unless T > B (then
  //                A ~ Bin(B, α) | A < S accepted, S − A of the rejected law). Top and bottom
  //                keep min(J, S) of the favoured side of J ~ Bin(m, p̃) (the first S, Bin(S, p̃),
  //                where both sides tie); reweight Bin(S, J w1/(J w1 + (m − J) w0)).
  //   categorical  per token: best-of draws its K candidates as tokens; the verifier's kept
  //                counts are Mult(S, q̃ a) (or Mult(A, q̃ a) + Mult(S − A, q̃ (1 − a)) when
  //                short), the candidates as for the coin; top and bottom draw the candidates'
  //                counts Mult(m, q̃), keep whole levels of equal fitted probability from the
  //                favoured end and a multivariate hypergeometric share of the level cut (the
  //                earliest draws of exchangeable candidates are a uniformly random subset);
  //                reweight Mult(S, c_v w_v) given the candidates' counts c.
  //   gaussian, gmm  points: every candidate drawn and scored.

  // The run's reward as numbers: the coin's [r0, r1], the categorical's r_v (v = 1..V), or for
  // a continuous family { truth: true } (the truth's log density) or { target: c }.
  function rewardData(cfg) {
    const spec = cfg.reward;
    if (spec === null) return null;
    if (cfg.family === "coin") return Float64Array.from(rewardList(spec, 2, ""));
    if (cfg.family === "categorical") {
      const V = cfg.vocab;
      if (spec === "rank") return Float64Array.from({ length: V }, (_, v) => -(v + 1) / V);
      if (spec === "truth") return zipfProbabilities(V, cfg.zipf).map(Math.log);
      return Float64Array.from(rewardList(spec, V, ""));
    }
    if (spec === "truth") return { truth: true, target: 0 };
    return { truth: false, target: pythonFloat(spec.slice("target:".length).trim()) };
  }

  // _softmax_cumulative of scores[off .. off + count) into cum[0 .. count): cumulative sums of
  // e^{score − max}. Where the maximum is not finite (every score −∞, or a NaN, as numpy's max
  // then is, or +∞) every candidate weighs the same. Returns the total.
  function softmaxCumulative(scores, off, count, cum) {
    let top = -Infinity;
    let nan = false;
    for (let j = 0; j < count; j++) {
      const s = scores[off + j];
      if (s > top) top = s;
      else if (s !== s) nan = true;
    }
    if (nan || !Number.isFinite(top)) {
      for (let j = 0; j < count; j++) cum[j] = j + 1;
      return count;
    }
    let total = 0;
    for (let j = 0; j < count; j++) {
      total += Math.exp(scores[off + j] - top);
      cum[j] = total;
    }
    return total;
  }

  // The first j with cum[j] > u · total (inversion of the cumulative weights; _pick, _invert).
  function pickIndex(cum, count, u) {
    const x = u * cum[count - 1];
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  // Bin(B, α) conditioned on being below S (a verifier replicate that fell short). With
  // B α < S the event has probability about ½ or more and is drawn by rejection; otherwise by
  // inversion over 0..S − 1 from the top, the pmf relative to f(S − 1) by the ratios
  // f(x − 1)/f(x) = x (1 − α) / ((B − x + 1) α) (no underflow: they are relative).
  function shortBinomial(gen, budget, alpha, S) {
    if (budget * alpha < S) {
      for (;;) {
        const x = gen.binomial(budget, alpha);
        if (x < S) return x;
      }
    }
    const odds = (1 - alpha) / alpha;
    let total = 0;
    let f = 1;
    for (let x = S - 1; x >= 0; x--) {
      total += f;
      f *= (x * odds) / (budget - x + 1);
      if (f === 0) break;
    }
    let u = gen.uniform() * total;
    f = 1;
    for (let x = S - 1; x > 0; x--) {
      u -= f;
      if (u < 0) return x;
      f *= (x * odds) / (budget - x + 1);
      if (f === 0) return x;
    }
    return 0;
  }

  // The verifier's count of S kept from i.i.d. candidates each accepted with probability α
  // (see the section's header): box[0] = A, the accepted among the kept (S unless short),
  // box[1] = the candidates drawn (up to the S-th acceptance, or the budget B when short).
  function verifierCounts(gen, S, alpha, box) {
    const budget = MAX_CANDIDATES * S;
    if (alpha >= 1) {
      box[0] = S;
      box[1] = S;
      return;
    }
    const drawn = alpha > 0 ? S + gen.negativeBinomial(S, alpha) : Infinity;
    if (drawn <= budget) {
      box[0] = S;
      box[1] = drawn;
      return;
    }
    box[0] = alpha > 0 ? shortBinomial(gen, budget, alpha, S) : 0;
    box[1] = budget;
  }

  // a(x) = ε + (1 − ε) exp(s · log(b(x)/max b)) of a discrete verifier, whose belief b is the
  // truth's probability (discrete.belief_token_log_relative); 0^s = 0.
  function discreteAcceptance(q, qmax, strictness, falseAccept) {
    return falseAccept + (1 - falseAccept) *
      Math.exp(strictness * (Math.log(q) - Math.log(qmax)));
  }

  // The coin's curator: (gen, S, p̂, p̃) → the kept heads of S model tosses (p̂ the fit, p̃ the
  // toss probability after the temperature); box[1] = the candidates drawn.
  function coinCurator(cfg, rewards, box) {
    const keep = cfg.keep;
    const p0 = cfg.p0;
    switch (cfg.curation) {
      case "best-of": {
        const K = cfg.k;
        const top = Math.max(rewards[0], rewards[1]);
        const e0 = Math.exp(rewards[0] - top);
        const e1 = Math.exp(rewards[1] - top);
        // g(p̃) for each p̃ met (a fit on the grid j/N takes few values)
        const cache = new Map();
        const heads = (pt) => {
          let g = cache.get(pt);
          if (g === undefined) {
            g = 0;
            for (let j = 1; j <= K; j++) {
              const share = j === K ? 1 : (j * e1) / (j * e1 + (K - j) * e0);
              g += MCX.random.binomialPmf(j, K, pt) * share;
            }
            if (cache.size >= 65536) cache.clear();
            cache.set(pt, g);
          }
          return g;
        };
        return (gen, S, fitted, pt) => {
          box[1] = S * K;
          return gen.binomial(S, heads(pt));
        };
      }
      case "verifier": {
        const qmax = Math.max(p0, 1 - p0);
        const a0 = discreteAcceptance(1 - p0, qmax, cfg.strictness, cfg.false_accept);
        const a1 = discreteAcceptance(p0, qmax, cfg.strictness, cfg.false_accept);
        return (gen, S, fitted, pt) => {
          const alpha = pt * a1 + (1 - pt) * a0;
          verifierCounts(gen, S, alpha, box);
          const accepted = box[0];
          let h = accepted > 0 ? gen.binomial(accepted, (pt * a1) / alpha) : 0;
          if (accepted < S) h += gen.binomial(S - accepted, (pt * (1 - a1)) / (1 - alpha));
          return h;
        };
      }
      case "top":
      case "bottom": {
        const likely = cfg.curation === "top";
        return (gen, S, fitted, pt) => {
          const m = candidateCount(S, keep);
          box[1] = m;
          const logHeads = Math.log(fitted);
          const logTails = Math.log(1 - fitted);
          // every toss ties: the first S in draw order, i.i.d. tosses
          if (logHeads === logTails) return gen.binomial(S, pt);
          const j = gen.binomial(m, pt);
          return (logHeads > logTails) === likely ? Math.min(j, S) : S - Math.min(m - j, S);
        };
      }
      default: { // reweight
        const beta = cfg.power;
        return (gen, S, fitted, pt) => {
          const m = candidateCount(S, keep);
          box[1] = m;
          const j = gen.binomial(m, pt);
          if (j === 0 || j === m) return j === 0 ? 0 : S;
          const s1 = beta === 0 ? 0 : beta * (Math.log(p0) - Math.log(pt));
          const s0 = beta === 0 ? 0 : beta * (Math.log(1 - p0) - Math.log(1 - pt));
          const top = Math.max(s0, s1);
          let w1 = 1;
          let w0 = 1;
          if (Number.isFinite(top)) { // (a NaN makes top NaN: equal weights, as numpy's max)
            w1 = Math.exp(s1 - top);
            w0 = Math.exp(s0 - top);
          }
          return gen.binomial(S, (j * w1) / (j * w1 + (m - j) * w0));
        };
      }
    }
  }

  // The categorical's curator: (gen, S, q̂, q̂ offset, q̃, target, offset) adds the kept token
  // counts of S model tokens to target[offset ..] (q̂ the fit, q̃ the sampling law after the
  // temperature, normalised); box[1] = the candidates drawn.
  function categoricalCurator(cfg, q0, rewards, box) {
    const V = cfg.vocab;
    const keep = cfg.keep;
    const drawn = new Float64Array(V);
    const kept = new Float64Array(V);
    const suffix = new Float64Array(V + 1);
    const addCounts = (counts, target, offset) => {
      for (let v = 0; v < V; v++) target[offset + v] += counts[v];
    };
    switch (cfg.curation) {
      case "best-of": {
        const K = cfg.k;
        const cum = new Float64Array(V);
        const tokens = new Int32Array(K);
        const scores = new Float64Array(K);
        const weights = new Float64Array(K);
        return (gen, S, fitted, fOff, sampling, target, offset) => {
          let total = 0;
          let last = 0;
          for (let v = 0; v < V; v++) {
            if (sampling[v] > 0) {
              total += sampling[v];
              last = v;
            }
            cum[v] = total;
          }
          for (let i = 0; i < S; i++) {
            for (let j = 0; j < K; j++) { // a token by inversion (discrete.draw_tokens)
              const x = gen.uniform() * total;
              let lo = 0;
              let hi = last;
              while (lo < hi) {
                const mid = (lo + hi) >>> 1;
                if (cum[mid] > x) hi = mid;
                else lo = mid + 1;
              }
              tokens[j] = lo;
              scores[j] = rewards[lo];
            }
            softmaxCumulative(scores, 0, K, weights);
            target[offset + tokens[pickIndex(weights, K, gen.uniform())]] += 1;
          }
          box[1] = S * K;
        };
      }
      case "verifier": {
        let qmax = 0;
        for (let v = 0; v < V; v++) qmax = Math.max(qmax, q0[v]);
        const a = q0.map((q) => discreteAcceptance(q, qmax, cfg.strictness, cfg.false_accept));
        const acceptedLaw = new Float64Array(V);
        const rejectedLaw = new Float64Array(V);
        return (gen, S, fitted, fOff, sampling, target, offset) => {
          let mass = 0;
          let alpha = 0;
          for (let v = 0; v < V; v++) {
            acceptedLaw[v] = sampling[v] * a[v];
            rejectedLaw[v] = sampling[v] * (1 - a[v]);
            mass += sampling[v];
            alpha += acceptedLaw[v];
          }
          verifierCounts(gen, S, alpha / mass, box);
          const accepted = box[0];
          if (accepted > 0) {
            gen.multinomial(accepted, acceptedLaw, V, kept, 0, suffix);
            addCounts(kept, target, offset);
          }
          if (accepted < S) {
            gen.multinomial(S - accepted, rejectedLaw, V, kept, 0, suffix);
            addCounts(kept, target, offset);
          }
        };
      }
      case "top":
      case "bottom": {
        const likely = cfg.curation === "top";
        const present = new Int32Array(V);
        const key = new Float64Array(V);
        const level = new Float64Array(V);
        const levelKept = new Float64Array(V);
        // the favoured end first: the likelier tokens for top, the less likely for bottom
        const order = likely
          ? (x, y) => (key[x] > key[y] ? -1 : key[x] < key[y] ? 1 : 0)
          : (x, y) => (key[x] < key[y] ? -1 : key[x] > key[y] ? 1 : 0);
        return (gen, S, fitted, fOff, sampling, target, offset) => {
          const m = candidateCount(S, keep);
          box[1] = m;
          gen.multinomial(m, sampling, V, drawn, 0, suffix);
          if (m === S) {
            addCounts(drawn, target, offset);
            return;
          }
          let count = 0;
          for (let v = 0; v < V; v++) {
            if (drawn[v] > 0) {
              present[count++] = v;
              key[v] = Math.log(fitted[fOff + v]);
            }
          }
          const tokens = present.subarray(0, count);
          tokens.sort(order);
          let room = S;
          for (let i = 0; i < count && room > 0;) {
            let end = i;
            let size = 0;
            while (end < count && key[tokens[end]] === key[tokens[i]]) size += drawn[tokens[end++]];
            if (size <= room) {
              for (let j = i; j < end; j++) target[offset + tokens[j]] += drawn[tokens[j]];
              room -= size;
            } else { // the level cut: the earliest drawn `room` of its candidates
              for (let j = i; j < end; j++) level[j - i] = drawn[tokens[j]];
              gen.multivariateHypergeometric(level, end - i, room, levelKept, 0, 0);
              for (let j = i; j < end; j++) target[offset + tokens[j]] += levelKept[j - i];
              room = 0;
            }
            i = end;
          }
        };
      }
      default: { // reweight
        const beta = cfg.power;
        const logTruth = q0.map(Math.log);
        const score = new Float64Array(V);
        return (gen, S, fitted, fOff, sampling, target, offset) => {
          const m = candidateCount(S, keep);
          box[1] = m;
          gen.multinomial(m, sampling, V, drawn, 0, suffix);
          let top = -Infinity;
          let nan = false;
          for (let v = 0; v < V; v++) {
            if (drawn[v] > 0) {
              const s = beta === 0 ? 0 : beta * (logTruth[v] - Math.log(sampling[v]));
              score[v] = s;
              if (s > top) top = s;
              else if (s !== s) nan = true;
            }
          }
          const equal = nan || !Number.isFinite(top);
          for (let v = 0; v < V; v++) {
            kept[v] = drawn[v] > 0 ? drawn[v] * (equal ? 1 : Math.exp(score[v] - top)) : 0;
          }
          gen.multinomial(S, kept, V, drawn, 0, suffix);
          addCounts(drawn, target, offset);
        };
      }
    }
  }

  // log N(x; mean, var) with the variance floored at the smallest positive double and NaN read
  // as −∞ (continuous.normal_logpdf).
  function normalLogpdf(x, mean, variance) {
    const v = Math.max(variance, TINY);
    const d = x - mean;
    const out = -0.5 * (LN_2PI + Math.log(v) + (d * d) / v);
    return out === out ? out : -Infinity;
  }

  // log Σ_k w_k N(x; μ_k, σ²_k) of θ packed at th[b ..] (K components), or of separate weight,
  // mean and variance arrays (continuous.mixture_logpdf: log-sum-exp, a dead component −∞).
  function mixtureLogpdf(x, w, mu, va, K, wOff, mOff, vOff) {
    let top = -Infinity;
    for (let k = 0; k < K; k++) {
      const term = (w[wOff + k] > 0 ? Math.log(w[wOff + k]) : -Infinity) +
        normalLogpdf(x, mu[mOff + k], va[vOff + k]);
      if (term > top) top = term;
    }
    const safe = Number.isFinite(top) ? top : 0;
    let total = 0;
    for (let k = 0; k < K; k++) {
      const term = (w[wOff + k] > 0 ? Math.log(w[wOff + k]) : -Infinity) +
        normalLogpdf(x, mu[mOff + k], va[vOff + k]);
      total += Math.exp(term - safe);
    }
    return Math.log(total) + safe;
  }

  // max_x log p(x) of a normal mixture (gmm/family.py's truth_log_peak): the best of a grid of
  // 4001 points over the means' range and the means themselves, refined between its neighbours
  // by golden-section search to 1e−12.
  function mixtureLogPeak(w, mu, va) {
    const K = w.length;
    const logP = (x) => mixtureLogpdf(x, w, mu, va, K, 0, 0, 0);
    const low = Math.min(...mu);
    const high = Math.max(...mu);
    const grid = [...mu];
    for (let i = 0; i <= 4000; i++) grid.push(i === 4000 ? high : low + (high - low) * (i / 4000));
    const points = Array.from(new Set(grid)).sort((a, b) => a - b);
    let best = 0;
    let peak = -Infinity;
    points.forEach((x, i) => {
      const value = logP(x);
      if (value > peak) {
        peak = value;
        best = i;
      }
    });
    let a = points[Math.max(best - 1, 0)];
    let b = points[Math.min(best + 1, points.length - 1)];
    const ratio = (Math.sqrt(5) - 1) / 2;
    while (b - a > 1e-12 * Math.max(1, Math.abs(a))) {
      const c = b - ratio * (b - a);
      const d = a + ratio * (b - a);
      if (logP(c) >= logP(d)) b = d;
      else a = c;
      if (!(c > a || d < b)) break;
    }
    return Math.max(peak, logP(0.5 * (a + b)));
  }

  // The continuous curators (gaussian, gmm): (gen, S, model, out, offset) writes the S kept
  // points to out[offset ..) and returns the candidates drawn. `model` draws a candidate
  // (model.draw(gen)) and scores it under the fit (model.fitted(x), the log-likelihood or any
  // increasing function of it: top, bottom) and by log p_truth(x) − log p_proposal(x), the law
  // it was drawn from (model.logRatio(x), up to a constant: reweight); `family` by the
  // verifier's belief (family.belief, log b(x)/max b) and the reward (family.score, up to a
  // constant).
  function continuousCurator(cfg, family) {
    const K = cfg.k;
    const keep = cfg.keep;
    let xs = new Float64Array(16);
    let keys = new Float64Array(16);
    let sorted = new Float64Array(16);
    const grow = (m) => {
      if (xs.length < m) {
        xs = new Float64Array(m);
        keys = new Float64Array(m);
        sorted = new Float64Array(m);
      }
    };
    switch (cfg.curation) {
      case "best-of":
        return (gen, S, model, out, offset) => {
          grow(K);
          for (let i = 0; i < S; i++) {
            for (let j = 0; j < K; j++) {
              const x = model.draw(gen);
              xs[j] = x;
              keys[j] = family.score(x);
            }
            softmaxCumulative(keys, 0, K, sorted);
            out[offset + i] = xs[pickIndex(sorted, K, gen.uniform())];
          }
          return S * K;
        };
      case "verifier": {
        const s = cfg.strictness;
        const eps = cfg.false_accept;
        return (gen, S, model, out, offset) => {
          grow(S);
          const budget = MAX_CANDIDATES * S;
          let kept = 0;
          let rejected = 0;
          let drawn = 0;
          while (kept < S && drawn < budget) {
            const x = model.draw(gen);
            drawn += 1;
            if (gen.uniform() < eps + (1 - eps) * Math.exp(s * family.belief(x))) {
              out[offset + kept++] = x;
            } else if (rejected < S) {
              xs[rejected++] = x; // the earliest rejected: the fill of a replicate short of S
            }
          }
          for (let i = 0; kept < S; i++) out[offset + kept++] = xs[i];
          return drawn;
        };
      }
      case "top":
      case "bottom": {
        // key = −direction · log-likelihood, the S smallest kept (NaN last, as +∞)
        const sign = cfg.curation === "top" ? -1 : 1;
        return (gen, S, model, out, offset) => {
          const m = candidateCount(S, keep);
          grow(m);
          for (let j = 0; j < m; j++) xs[j] = model.draw(gen);
          if (m === S) {
            for (let j = 0; j < m; j++) out[offset + j] = xs[j];
            return m;
          }
          for (let j = 0; j < m; j++) {
            const value = sign * model.fitted(xs[j]);
            keys[j] = value === value ? value : Infinity;
          }
          for (let j = 0; j < m; j++) sorted[j] = keys[j];
          const threshold = selectKth(sorted, m, S - 1);
          let below = 0;
          for (let j = 0; j < m; j++) if (keys[j] < threshold) below += 1;
          let ties = S - below; // of the candidates at the threshold, the earliest drawn
          let at = offset;
          for (let j = 0; j < m; j++) {
            if (keys[j] < threshold || (keys[j] === threshold && ties-- > 0)) out[at++] = xs[j];
          }
          return m;
        };
      }
      default: { // reweight
        const beta = cfg.power;
        return (gen, S, model, out, offset) => {
          const m = candidateCount(S, keep);
          grow(m);
          for (let j = 0; j < m; j++) {
            const x = model.draw(gen);
            xs[j] = x;
            keys[j] = beta === 0 ? 0 : beta * model.logRatio(x);
          }
          softmaxCumulative(keys, 0, m, sorted);
          for (let i = 0; i < S; i++) out[offset + i] = xs[pickIndex(sorted, m, gen.uniform())];
          return m;
        };
      }
    }
  }

  // The k-th smallest (from 0) of a[0 .. n), by quickselect (Hoare's partition about the median
  // of three; no random numbers), reordering a.
  function selectKth(a, n, k) {
    let lo = 0;
    let hi = n - 1;
    while (hi > lo) {
      const x = a[lo];
      const y = a[(lo + hi) >>> 1];
      const z = a[hi];
      const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (a[i] < pivot) i += 1;
        while (a[j] > pivot) j -= 1;
        if (i <= j) {
          const kept = a[i];
          a[i] = a[j];
          a[j] = kept;
          i += 1;
          j -= 1;
        }
      }
      if (k <= j) hi = j;
      else if (k >= i) lo = i;
      else return a[k];
    }
    return a[k];
  }

  // The mean and centred sum of squares of x[off .. off + n) into out[0], out[1] (two passes;
  // training_form's Moments of kept points).
  function pointMoments(x, off, n, out) {
    let total = 0;
    for (let i = off; i < off + n; i++) total += x[i];
    const mean = total / n;
    let square = 0;
    for (let i = off; i < off + n; i++) {
      const e = x[i] - mean;
      square += e * e;
    }
    out[0] = mean;
    out[1] = square;
  }

  // W_r of a weighted fit (training_sets.part_weights): the real samples together weigh W_r,
  // the synthetic ones W_s = 1 − W_r, each sample of a part equally; W_r = w when both parts
  // are present, else the present part takes all.
  function realShare(nReal, nSynthetic, weight) {
    return nSynthetic === 0 ? 1 : nReal === 0 ? 0 : weight;
  }

  // Moves a uniformly random m-subset of data[offset .. offset + size) to its first m places,
  // with each point's provenance flag (1 real, 0 synthetic) moving along: the same draws as
  // chooseWithoutReplacement.
  function chooseWithFlags(gen, data, flags, offset, size, m) {
    for (let i = 0; i < m; i++) {
      const a = offset + i;
      const b = a + gen.uniformInt(size - i);
      const point = data[a];
      data[a] = data[b];
      data[b] = point;
      const flag = flags[a];
      flags[a] = flags[b];
      flags[b] = flag;
    }
  }

  // -- coin -------------------------------------------------------------------------------------

  function coinSimulator(env) {
    const { cfg, R, G, N, streams } = env;
    const { kind, real: nReal, synthetic: nModel, carry: nCarry } = env.pieces;
    const p0 = cfg.p0;
    const tau = cfg.temperature;
    const p = env.metrics.p;
    const phat = new Float64Array(R);
    // heads of the training set (mix), of the pool (accumulate*), of the real set (augment)
    const heads = new Float64Array(R);
    const poolSize = new Float64Array(R);
    const hit = new Uint8Array(R);
    let hits = 0;
    const stride = G + 1;
    const rewards = rewardData(cfg);
    const rewardOut = env.metrics.reward || null;
    const acceptOut = env.metrics.accept_rate || null;
    const box = new Float64Array(2);
    const curate = curationActive(cfg) ? coinCurator(cfg, rewards, box) : null;

    function recordValue(r, t, value) {
      phat[r] = value;
      p[r * stride + t] = value;
      if (!hit[r] && (value === 0 || value === 1)) {
        hit[r] = 1;
        hits += 1;
      }
      if (rewardOut !== null) {
        rewardOut[r * stride + t] = (1 - value) * rewards[0] + value * rewards[1];
      }
    }

    function record(r, t, h, size) {
      recordValue(r, t, h / size);
    }

    // The heads among the model's nModel tosses of replicate r (p̃ its toss probability):
    // binomial, or what the curator keeps of its candidates.
    function modelHeads(gen, r, t, pt) {
      if (curate === null || nModel === 0) return gen.binomial(nModel, pt);
      const h = curate(gen, nModel, phat[r], pt);
      acceptOut[r * stride + t] = nModel / box[1];
      return h;
    }

    const truth = () => {
      for (let r = 0; r < R; r++) {
        p[r * stride] = p0;
        if (p0 === 0 || p0 === 1) hit[r] = 1;
        if (rewardOut !== null) rewardOut[r * stride] = (1 - p0) * rewards[0] + p0 * rewards[1];
      }
      hits = p0 === 0 || p0 === 1 ? R : 0;
      env.absorbed[0] = hits / R;
    };

    if (cfg.real_weight !== null) return { truth, advance: coinWeighted() };

    return {
      truth,
      advance(t) {
        for (let r = 0; r < R; r++) {
          const gen = streams[r];
          if (t === 1) {
            const h = gen.binomial(N, p0);
            heads[r] = h;
            poolSize[r] = N;
            record(r, t, h, N);
            continue;
          }
          const pt = temperedHeads(phat[r], tau);
          if (kind === "mix") {
            let h = gen.binomial(nReal, p0) + modelHeads(gen, r, t, pt);
            if (nCarry > 0) h += gen.hypergeometric(heads[r], N - heads[r], nCarry);
            heads[r] = h;
            record(r, t, h, N);
          } else if (kind === "accumulate" || kind === "accumulate-subsample") {
            heads[r] += gen.binomial(nReal, p0) + modelHeads(gen, r, t, pt);
            poolSize[r] += N;
            if (kind === "accumulate") {
              record(r, t, heads[r], poolSize[r]);
            } else {
              record(r, t, gen.hypergeometric(heads[r], poolSize[r] - heads[r], N), N);
            }
          } else { // augment: the real set's heads plus ⌊λN⌋ model tosses
            record(r, t, heads[r] + modelHeads(gen, r, t, pt), N + nModel);
          }
        }
        env.absorbed[t] = hits / R;
      },
    };

    // The weighted fit p̂ = W_r h_r / n_r + W_s h_s / n_s (discrete.frequencies): a training set
    // is its real and synthetic heads and sizes, and whatever is carried over or subsampled is
    // drawn with its provenance (the real items first, hypergeometric, then the heads among
    // each part: the same law as a multivariate hypergeometric over the four kinds of toss).
    function coinWeighted() {
      const weight = cfg.real_weight;
      const realHeads = new Float64Array(R);
      const realSize = new Float64Array(R);
      const synHeads = new Float64Array(R);
      const synSize = new Float64Array(R);
      const fitted = (rh, rn, sh, sn) => {
        const wReal = realShare(rn, sn, weight);
        return (wReal * rh) / Math.max(rn, 1) + ((1 - wReal) * sh) / Math.max(sn, 1);
      };
      // n tosses without replacement from replicate r's set: [real heads, real, syn heads]
      const subsample = (gen, r, n, out) => {
        const rn = realSize[r];
        const sn = synSize[r];
        const fromReal = gen.hypergeometric(rn, sn, n);
        out[0] = gen.hypergeometric(realHeads[r], rn - realHeads[r], fromReal);
        out[1] = fromReal;
        out[2] = gen.hypergeometric(synHeads[r], sn - synHeads[r], n - fromReal);
      };
      const drawn = new Float64Array(3);
      return (t) => {
        for (let r = 0; r < R; r++) {
          const gen = streams[r];
          if (t === 1) { // all real: the unweighted fit
            const h = gen.binomial(N, p0);
            realHeads[r] = h;
            realSize[r] = N;
            synHeads[r] = 0;
            synSize[r] = 0;
            recordValue(r, t, fitted(h, N, 0, 0));
            continue;
          }
          const pt = temperedHeads(phat[r], tau);
          if (kind === "mix") {
            const fresh = gen.binomial(nReal, p0);
            const model = modelHeads(gen, r, t, pt);
            drawn.fill(0);
            if (nCarry > 0) subsample(gen, r, nCarry, drawn);
            realHeads[r] = fresh + drawn[0];
            realSize[r] = nReal + drawn[1];
            synHeads[r] = model + drawn[2];
            synSize[r] = nModel + nCarry - drawn[1];
            recordValue(r, t, fitted(realHeads[r], realSize[r], synHeads[r], synSize[r]));
          } else if (kind === "accumulate" || kind === "accumulate-subsample") {
            realHeads[r] += gen.binomial(nReal, p0);
            realSize[r] += nReal;
            synHeads[r] += modelHeads(gen, r, t, pt);
            synSize[r] += nModel;
            if (kind === "accumulate") {
              recordValue(r, t, fitted(realHeads[r], realSize[r], synHeads[r], synSize[r]));
            } else {
              subsample(gen, r, N, drawn);
              recordValue(r, t, fitted(drawn[0], drawn[1], drawn[2], N - drawn[1]));
            }
          } else { // augment: the real set and ⌊λN⌋ model tosses
            recordValue(r, t, fitted(realHeads[r], N, modelHeads(gen, r, t, pt), nModel));
          }
        }
        env.absorbed[t] = hits / R;
      };
    }
  }

  // -- gaussian ---------------------------------------------------------------------------------

  function gaussianSimulator(env) {
    const { cfg, R, G, N, streams } = env;
    const { kind, real: nReal, synthetic: nModel, carry: nCarry } = env.pieces;
    const mean0 = cfg.mean;
    const var0 = cfg.std * cfg.std;
    const sd0 = cfg.std;
    const lambda2 = cfg.scale * cfg.scale;
    const mle = cfg.estimator === "mle";
    const stride = G + 1;
    const outMean = env.metrics.mean;
    const outVar = env.metrics.var;
    const mu = new Float64Array(R);
    const va = new Float64Array(R);
    const usesPoints = kind === "accumulate-subsample" || (kind === "mix" && nCarry > 0);
    const weight = cfg.real_weight;
    const rewards = rewardData(cfg);
    const rewardOut = env.metrics.reward || null;
    const acceptOut = env.metrics.accept_rate || null;
    // E_model r of N(m, v) (gaussian.reward: −(log 2πσ0² + (v + (m − μ0)²)/σ0²)/2 for the truth,
    // −(v + (m − c)²)/2 for target:c)
    const expectedReward = rewards === null ? null : rewards.truth
      ? (m, v) => -0.5 * (Math.log(2 * Math.PI * var0) + (v + (m - mean0) ** 2) / var0)
      : (m, v) => -0.5 * (v + (m - rewards.target) ** 2);

    // The curated model group: the curator's points of replicate r's model N(μ̂, λ² v̂), scored
    // under the fit N(μ̂, v̂), the truth, the verifier's belief (the truth moved by δ:
    // log b/max b = −(x − μ0 − δ)²/2σ0²) and the reward. Scores that only rank candidates or
    // enter a softmax drop their constants where the variances are finite and positive (the
    // same choices): the fit's likelihood ranks by −(x − μ̂)², the truth reward is
    // −(x − μ0)²/2σ0², reweight's log-ratio (x − μ̂)²/2λ²v̂ − (x − μ0)²/2σ0².
    const curate = curationActive(cfg) ? continuousCurator(cfg, {
      belief: (x) => {
        const d = x - mean0 - cfg.shift;
        return (-0.5 * d * d) / var0;
      },
      score: rewards === null ? null : rewards.truth
        ? (x) => (-0.5 * (x - mean0) * (x - mean0)) / var0
        : (x) => -0.5 * (x - rewards.target) * (x - rewards.target),
    }) : null;
    // the model curated: mean, fitted and sampled variances, sampled sd, and whether both
    // variances are finite (fitted) and the sampled one positive too (sampled)
    const state = new Float64Array(6);
    const model = {
      draw: (gen) => state[0] + state[3] * gen.normal(),
      fitted: (x) => (state[4] ? -(x - state[0]) * (x - state[0])
        : normalLogpdf(x, state[0], state[1])),
      logRatio: (x) => (state[5]
        ? 0.5 * (((x - state[0]) * (x - state[0])) / state[2] - ((x - mean0) * (x - mean0)) / var0)
        : normalLogpdf(x, mean0, var0) - normalLogpdf(x, state[0], state[2])),
    };
    // The verifier of a finite model, exactly (ε, s, c = μ0 + δ): the acceptance
    // a(x) = ε + (1 − ε) g(x), g(x) = exp(−s (x − c)²/2σ0²), is a Gaussian factor, so the
    // accepted law p a / α of the model p = N(m, v) is the mixture of p (weight ε/α) and of the
    // tilted normal p g / α_g = N(m_k, v_k), v_k = v σ0²/(σ0² + s v), m_k = m + s v (c − m)/(σ0²
    // + s v), with α_g = √(σ0²/(σ0² + s v)) exp(−s (m − c)²/2(σ0² + s v)) and α = ε + (1 − ε)
    // α_g (theory/curation.py's gaussian_verifier_kept); the rejected law ∝ p (1 − g), drawn
    // by rejection from p, fills a replicate that falls short of S (verifierCounts).
    const exactVerifier = curate !== null && cfg.curation === "verifier";
    const centre = mean0 + cfg.shift;
    const law = new Float64Array(6); // α, ε/α, m, sd, m_k, sd_k
    const verifierBox = new Float64Array(2);
    const verifierLaw = (m, v) => {
      const s = cfg.strictness;
      const spread = var0 + s * v;
      const alphaG = Math.sqrt(var0 / spread) * Math.exp((-s * (m - centre) ** 2) / (2 * spread));
      const alpha = cfg.false_accept + (1 - cfg.false_accept) * alphaG;
      law[0] = alpha;
      law[1] = cfg.false_accept / alpha;
      law[2] = m;
      law[3] = Math.sqrt(v);
      law[4] = m + ((s * v) / spread) * (centre - m);
      law[5] = Math.sqrt((v * var0) / spread);
    };
    const rejectedPoint = (gen) => {
      const s = cfg.strictness;
      for (;;) {
        const x = law[2] + law[3] * gen.normal();
        if (gen.uniform() >= Math.exp((-s * (x - centre) * (x - centre)) / (2 * var0))) return x;
      }
    };
    // S kept points of the finite model N(m, v) written to out[offset ..); the candidates drawn
    const verifiedPoints = (gen, m, v, out, offset) => {
      verifierLaw(m, v);
      verifierCounts(gen, nModel, law[0], verifierBox);
      const accepted = verifierBox[0];
      for (let i = 0; i < accepted; i++) {
        const plain = law[1] > 0 && gen.uniform() < law[1];
        out[offset + i] = plain ? law[2] + law[3] * gen.normal() : law[4] + law[5] * gen.normal();
      }
      for (let i = accepted; i < nModel; i++) out[offset + i] = rejectedPoint(gen);
      return verifierBox[1];
    };
    // The same group as its moments (size, mean, M2) into `moments`, without the points: the
    // plain and tilted parts of the accepted ones are normal groups (Cochran), the rejected fill
    // points; pooled exactly (Chan et al.).
    const join = (moments, n, mean, m2) => {
      const size = moments[0];
      if (size === 0) {
        moments[0] = n;
        moments[1] = mean;
        moments[2] = m2;
        return;
      }
      const total = size + n;
      const delta = mean - moments[1];
      moments[1] += (delta * n) / total;
      moments[2] += m2 + (delta * delta * size * n) / total;
      moments[0] = total;
    };
    const joinGroup = (gen, moments, n, centre, sd) => {
      if (n === 0) return;
      join(moments, n, centre + (sd / Math.sqrt(n)) * gen.normal(),
           n > 1 ? sd * sd * gen.chisq(n - 1) : 0);
    };
    const verifiedMoments = (gen, m, v, moments) => {
      verifierLaw(m, v);
      verifierCounts(gen, nModel, law[0], verifierBox);
      const accepted = verifierBox[0];
      const plain = law[1] > 0 ? gen.binomial(accepted, Math.min(law[1], 1)) : 0;
      moments.fill(0);
      joinGroup(gen, moments, plain, law[2], law[3]);
      joinGroup(gen, moments, accepted - plain, law[4], law[5]);
      for (let i = accepted; i < nModel; i++) join(moments, 1, rejectedPoint(gen), 0);
      return verifierBox[1];
    };
    function curatedPoints(gen, r, t, out, offset) {
      state[0] = mu[r];
      state[1] = va[r];
      state[2] = va[r] * lambda2;
      state[3] = Math.sqrt(state[2]);
      state[4] = Number.isFinite(state[1]) && Number.isFinite(state[2]) ? 1 : 0;
      state[5] = state[4] && state[2] > 0 ? 1 : 0;
      const candidates = exactVerifier && state[4]
        ? verifiedPoints(gen, state[0], state[2], out, offset)
        : curate(gen, nModel, model, out, offset);
      acceptOut[r * stride + t] = nModel / candidates;
    }

    function store(r, t, mean, v) {
      if (Number.isFinite(mean) && Number.isFinite(v)) {
        mu[r] = mean;
        va[r] = v;
      } else { // blown up (λ > 1 only): var = ∞, the last finite mean kept (absorbing)
        va[r] = Infinity;
      }
      outMean[r * stride + t] = mu[r];
      outVar[r * stride + t] = va[r];
      if (rewardOut !== null) rewardOut[r * stride + t] = expectedReward(mu[r], va[r]);
    }

    function fit(r, t, mean, m2, size) {
      const v = m2 / (mle ? size : size - 1);
      store(r, t, mean, v);
    }

    // The weighted MLE from the parts' moments (gaussian.weighted_normal_fit): mean =
    // W_r m_r + W_s m_s, var = W_r v_r + W_s v_s + W_r W_s (m_r − m_s)², v = M2/n (0, 0 for an
    // empty part, whose weight is 0).
    function weightedFit(r, t, rn, rMean, rM2, sn, sMean, sM2) {
      const wReal = realShare(rn, sn, weight);
      const wSyn = 1 - wReal;
      const mr = rn > 0 ? rMean : 0;
      const ms = sn > 0 ? sMean : 0;
      const vr = rn > 0 ? rM2 / rn : 0;
      const vs = sn > 0 ? sM2 / sn : 0;
      store(r, t, wReal * mr + wSyn * ms, wReal * vr + wSyn * vs + wReal * wSyn * (mr - ms) ** 2);
    }

    const common = {
      truth() {
        for (let r = 0; r < R; r++) {
          outMean[r * stride] = mean0;
          outVar[r * stride] = var0;
          mu[r] = mean0;
          va[r] = var0;
          if (rewardOut !== null) rewardOut[r * stride] = expectedReward(mean0, var0);
        }
      },
    };

    if (!usesPoints) {
      // Training sets as (size, mean, M2): the kept set (the accumulate pool, the augment real
      // set) and the groups drawn this generation, pooled by Chan's update. The running pool
      // lives in a typed array (SIZE, MEAN, M2, and the last group's GMEAN, GM2): numbers kept
      // in closure variables would be boxed on every write.
      const keptMean = new Float64Array(R);
      const keptM2 = new Float64Array(R);
      let keptSize = 0;
      const SIZE = 0;
      const MEAN = 1;
      const M2 = 2;
      const GMEAN = 3;
      const GM2 = 4;
      const acc = new Float64Array(5);
      // m draws of N(center, variance), as their exact moments, into acc[GMEAN], acc[GM2].
      const drawGroup = (gen, m, center, variance) => {
        acc[GMEAN] = center + Math.sqrt(variance / m) * gen.normal();
        acc[GM2] = m > 1 ? variance * gen.chisq(m - 1) : 0;
      };
      // The curated model group's moments into acc[GMEAN], acc[GM2] (its points' own).
      const kept = curate === null ? null : new Float64Array(nModel);
      const moments = new Float64Array(2);
      const groupMoments = new Float64Array(3);
      const curatedGroup = (gen, r, t) => {
        const v = va[r] * lambda2;
        if (exactVerifier && Number.isFinite(va[r]) && Number.isFinite(v)) {
          acceptOut[r * stride + t] = nModel / verifiedMoments(gen, mu[r], v, groupMoments);
          acc[GMEAN] = groupMoments[1];
          acc[GM2] = groupMoments[2];
          return;
        }
        curatedPoints(gen, r, t, kept, 0);
        pointMoments(kept, 0, nModel, moments);
        acc[GMEAN] = moments[0];
        acc[GM2] = moments[1];
      };
      // Pool the last group, of m, into acc[SIZE], acc[MEAN], acc[M2].
      const pool = (m) => {
        if (m === 0) return;
        const size = acc[SIZE];
        if (size === 0) {
          acc[SIZE] = m;
          acc[MEAN] = acc[GMEAN];
          acc[M2] = acc[GM2];
          return;
        }
        const total = size + m;
        const delta = acc[GMEAN] - acc[MEAN];
        acc[MEAN] += (delta * m) / total;
        acc[M2] += acc[GM2] + (delta * delta * size * m) / total;
        acc[SIZE] = total;
      };
      if (weight !== null) {
        // The real and the synthetic samples pooled apart (Moments.parts): the kept real set
        // (the accumulate pool's real part, the augment real set) and the accumulate pool's
        // synthetic part, each joined by this generation's groups of its kind.
        const keptSynMean = new Float64Array(R);
        const keptSynM2 = new Float64Array(R);
        let keptSynSize = 0;
        const real = new Float64Array(3);
        return Object.assign(common, {
          advance(t) {
            if (kind === "accumulate") {
              keptSize = t === 1 ? N : keptSize + nReal;
              keptSynSize = t === 1 ? 0 : keptSynSize + nModel;
            }
            for (let r = 0; r < R; r++) {
              const gen = streams[r];
              acc[SIZE] = 0;
              if (t === 1) {
                drawGroup(gen, N, mean0, var0);
                pool(N);
                keptMean[r] = acc[MEAN];
                keptM2[r] = acc[M2];
                weightedFit(r, t, N, acc[MEAN], acc[M2], 0, 0, 0);
                continue;
              }
              if (kind !== "mix") { // the kept real set
                acc[GMEAN] = keptMean[r];
                acc[GM2] = keptM2[r];
                pool(kind === "accumulate" ? keptSize - nReal : N);
              }
              if (kind !== "augment" && nReal > 0) {
                drawGroup(gen, nReal, mean0, var0);
                pool(nReal);
              }
              real[0] = acc[SIZE];
              real[1] = acc[MEAN];
              real[2] = acc[M2];
              if (kind === "accumulate") {
                keptMean[r] = acc[MEAN];
                keptM2[r] = acc[M2];
              }
              acc[SIZE] = 0;
              if (kind === "accumulate" && keptSynSize > nModel) {
                acc[GMEAN] = keptSynMean[r];
                acc[GM2] = keptSynM2[r];
                pool(keptSynSize - nModel);
              }
              if (nModel > 0) {
                if (curate === null) drawGroup(gen, nModel, mu[r], va[r] * lambda2);
                else curatedGroup(gen, r, t);
                pool(nModel);
              }
              if (kind === "accumulate") {
                keptSynMean[r] = acc[MEAN];
                keptSynM2[r] = acc[M2];
              }
              weightedFit(r, t, real[0], real[1], real[2], acc[SIZE], acc[MEAN], acc[M2]);
            }
          },
        });
      }
      return Object.assign(common, {
        advance(t) {
          if (kind === "accumulate") keptSize = t === 1 ? N : keptSize + N;
          if (kind === "augment") keptSize = N;
          for (let r = 0; r < R; r++) {
            const gen = streams[r];
            acc[SIZE] = 0;
            if (t === 1) {
              drawGroup(gen, N, mean0, var0);
              pool(N);
              keptMean[r] = acc[MEAN];
              keptM2[r] = acc[M2];
            } else {
              if (kind === "accumulate" || kind === "augment") {
                // The kept set first; for accumulate this generation's new groups join it.
                acc[GMEAN] = keptMean[r];
                acc[GM2] = keptM2[r];
                pool(kind === "accumulate" ? keptSize - N : N);
              }
              const modelVar = va[r] * lambda2;
              if (kind !== "augment" && nReal > 0) {
                drawGroup(gen, nReal, mean0, var0);
                pool(nReal);
              }
              if (nModel > 0) {
                if (curate === null) drawGroup(gen, nModel, mu[r], modelVar);
                else curatedGroup(gen, r, t);
                pool(nModel);
              }
              if (kind === "accumulate") {
                keptMean[r] = acc[MEAN];
                keptM2[r] = acc[M2];
              }
            }
            fit(r, t, acc[MEAN], acc[M2], acc[SIZE]);
          }
        },
      });
    }

    // Points: mix with carry-over (the training set, N per replicate, rebuilt in place) and
    // accumulate-subsample (the pool, N·G per replicate; the training set is its first N after
    // a partial shuffle). A weighted fit keeps each point's provenance (1 real, 0 synthetic).
    const capacity = kind === "mix" ? N : N * G;
    const data = new Float64Array(R * capacity);
    const flags = weight === null ? null : new Uint8Array(R * capacity);
    let poolSize = 0;
    const drawPoints = (gen, offset, m, center, sd) => {
      for (let i = 0; i < m; i++) data[offset + i] = center + sd * gen.normal();
    };
    const drawReal = (gen, offset, m) => {
      drawPoints(gen, offset, m, mean0, sd0);
      if (flags !== null) flags.fill(1, offset, offset + m);
    };
    const drawModel = (gen, r, t, offset, m, sd) => {
      if (curate === null || m === 0) drawPoints(gen, offset, m, mu[r], sd);
      else curatedPoints(gen, r, t, data, offset);
      if (flags !== null) flags.fill(0, offset, offset + m);
    };
    const choose = flags === null ? chooseWithoutReplacement
      : (gen, x, offset, size, m) => chooseWithFlags(gen, x, flags, offset, size, m);
    const fitPoints = (r, t, offset) => {
      if (flags !== null) {
        weightedPoints(r, t, offset);
        return;
      }
      let total = 0;
      for (let i = 0; i < N; i++) total += data[offset + i];
      const mean = total / N;
      let m2 = 0;
      for (let i = 0; i < N; i++) {
        const e = data[offset + i] - mean;
        m2 += e * e;
      }
      fit(r, t, mean, m2, N);
    };
    // The weighted MLE of points (weighted_normal_fit on Samples): mean = Σ ω x,
    // var = Σ ω (x − mean)², ω = W_r/n_r for a real point and W_s/n_s for a synthetic one.
    const weightedPoints = (r, t, offset) => {
      let nr = 0;
      for (let i = 0; i < N; i++) nr += flags[offset + i];
      const wReal = realShare(nr, N - nr, weight);
      const omega = [(1 - wReal) / Math.max(N - nr, 1), wReal / Math.max(nr, 1)];
      let mean = 0;
      for (let i = 0; i < N; i++) mean += omega[flags[offset + i]] * data[offset + i];
      let v = 0;
      for (let i = 0; i < N; i++) v += omega[flags[offset + i]] * (data[offset + i] - mean) ** 2;
      store(r, t, mean, v);
    };
    return Object.assign(common, {
      advance(t) {
        poolSize = t === 1 ? N : poolSize + N;
        for (let r = 0; r < R; r++) {
          const gen = streams[r];
          const base = r * capacity;
          if (t === 1) {
            drawReal(gen, base, N);
          } else {
            const modelSd = Math.sqrt(va[r] * lambda2);
            if (kind === "mix") {
              choose(gen, data, base, N, nCarry);
              drawReal(gen, base + nCarry, nReal);
              drawModel(gen, r, t, base + nCarry + nReal, nModel, modelSd);
            } else {
              const end = base + poolSize - N;
              drawReal(gen, end, nReal);
              drawModel(gen, r, t, end + nReal, N - nReal, modelSd);
              choose(gen, data, base, poolSize, N);
            }
          }
          fitPoints(r, t, base);
        }
      },
    });
  }

  // -- categorical ------------------------------------------------------------------------------

  function zipfProbabilities(vocab, exponent) {
    const q = new Float64Array(vocab);
    let total = 0;
    for (let v = 0; v < vocab; v++) {
      q[v] = Math.pow(v + 1, -exponent);
      total += q[v];
    }
    for (let v = 0; v < vocab; v++) q[v] /= total;
    return q;
  }

  function categoricalMetrics(q, offset, k) {
    let plogp = 0;
    let squares = 0;
    let support = 0;
    for (let v = 0; v < k; v++) {
      const x = q[offset + v];
      if (x > 0) {
        plogp += x * Math.log(x);
        squares += x * x;
        support += 1;
      }
    }
    return [1 - squares, support, 0 - plogp];
  }

  function categoricalSimulator(env) {
    const { cfg, R, G, N, streams } = env;
    const { kind, real: nReal, synthetic: nModel, carry: nCarry } = env.pieces;
    const V = cfg.vocab;
    const tau = cfg.temperature;
    const q0 = zipfProbabilities(V, cfg.zipf);
    const stride = G + 1;
    const { gini_simpson: gini, support, entropy } = env.metrics;
    const qhat = new Float64Array(R * V);
    // counts of the training set (mix), the pool (accumulate*) or the real set (augment)
    const kept = new Float64Array(R * V);
    const sampling = new Float64Array(V);
    const suffix = new Float64Array(V + 1);
    const drawn = new Float64Array(V);
    const train = new Float64Array(V);
    let poolSize = 0;
    const rewards = rewardData(cfg);
    const rewardOut = env.metrics.reward || null;
    const acceptOut = env.metrics.accept_rate || null;
    const box = new Float64Array(2);
    const curate = curationActive(cfg) ? categoricalCurator(cfg, q0, rewards, box) : null;

    const addMultinomial = (gen, m, probs, target, offset) => {
      if (m === 0) return;
      gen.multinomial(m, probs, V, drawn, 0, suffix);
      for (let v = 0; v < V; v++) target[offset + v] += drawn[v];
    };
    // The model's nModel tokens of replicate r (from q̃ = `sampling`), as drawn or as curated.
    const addModel = (gen, r, t, target, offset) => {
      if (curate === null || nModel === 0) {
        addMultinomial(gen, nModel, sampling, target, offset);
        return;
      }
      curate(gen, nModel, qhat, r * V, sampling, target, offset);
      acceptOut[r * stride + t] = nModel / box[1];
    };
    const metricsOf = (r, t, q, base) => {
      const [g, s, e] = categoricalMetrics(q, base, V);
      gini[r * stride + t] = g;
      support[r * stride + t] = s;
      entropy[r * stride + t] = e;
      if (rewardOut !== null) { // E_model r = Σ_v q_v r_v
        let total = 0;
        for (let v = 0; v < V; v++) if (q[base + v] > 0) total += q[base + v] * rewards[v];
        rewardOut[r * stride + t] = total;
      }
    };
    const record = (r, t, counts, offset, size) => {
      const base = r * V;
      for (let v = 0; v < V; v++) qhat[base + v] = counts[offset + v] / size;
      metricsOf(r, t, qhat, base);
    };

    const truth = () => {
      metricsOf(0, 0, q0, 0);
      for (const out of [gini, support, entropy, rewardOut]) {
        if (out !== null) for (let r = 1; r < R; r++) out[r * stride] = out[0];
      }
    };

    if (cfg.real_weight !== null) return { truth, advance: weighted() };

    return {
      truth,
      advance(t) {
        poolSize = t === 1 ? N : poolSize + N;
        for (let r = 0; r < R; r++) {
          const gen = streams[r];
          const base = r * V;
          if (t === 1) {
            gen.multinomial(N, q0, V, kept, base, suffix);
            record(r, t, kept, base, N);
            continue;
          }
          temperedProbabilities(qhat, base, V, tau, sampling);
          if (kind === "mix") {
            train.fill(0);
            addMultinomial(gen, nReal, q0, train, 0);
            addModel(gen, r, t, train, 0);
            if (nCarry > 0) {
              gen.multivariateHypergeometric(kept, V, nCarry, drawn, 0, base);
              for (let v = 0; v < V; v++) train[v] += drawn[v];
            }
            kept.set(train, base);
            record(r, t, kept, base, N);
          } else if (kind === "accumulate" || kind === "accumulate-subsample") {
            addMultinomial(gen, nReal, q0, kept, base);
            addModel(gen, r, t, kept, base);
            if (kind === "accumulate") {
              record(r, t, kept, base, poolSize);
            } else {
              gen.multivariateHypergeometric(kept, V, N, train, 0, base);
              record(r, t, train, 0, N);
            }
          } else { // augment
            for (let v = 0; v < V; v++) train[v] = kept[base + v];
            addModel(gen, r, t, train, 0);
            record(r, t, train, 0, N + nModel);
          }
        }
      },
    };

    // The weighted fit q_v = W_r c^r_v / n_r + W_s c^s_v / n_s (discrete.frequencies): the real
    // counts kept beside the counts, and whatever is carried over or subsampled drawn over the
    // 2V kinds of token (each token's real and synthetic items: Counts.subsample with
    // provenance).
    function weighted() {
      const weight = cfg.real_weight;
      const keptReal = new Float64Array(R * V);
      const trainReal = new Float64Array(V);
      const both = new Float64Array(2 * V);
      const picked = new Float64Array(2 * V);
      // m items without replacement from counts c (real part cr) into out, outReal
      const subsample = (gen, c, cr, base, m, out, outReal) => {
        for (let v = 0; v < V; v++) {
          both[v] = cr[base + v];
          both[V + v] = c[base + v] - cr[base + v];
        }
        gen.multivariateHypergeometric(both, 2 * V, m, picked, 0, 0);
        for (let v = 0; v < V; v++) {
          out[v] += picked[v] + picked[V + v];
          outReal[v] += picked[v];
        }
      };
      const recordWeighted = (r, t, counts, offset, real, realOffset, size) => {
        let nr = 0;
        for (let v = 0; v < V; v++) nr += real[realOffset + v];
        const wReal = realShare(nr, size - nr, weight);
        const realDivisor = Math.max(nr, 1);
        const synDivisor = Math.max(size - nr, 1);
        const base = r * V;
        for (let v = 0; v < V; v++) {
          const cr = real[realOffset + v];
          qhat[base + v] = (wReal * cr) / realDivisor +
            ((1 - wReal) * (counts[offset + v] - cr)) / synDivisor;
        }
        metricsOf(r, t, qhat, base);
      };
      return (t) => {
        poolSize = t === 1 ? N : poolSize + N;
        for (let r = 0; r < R; r++) {
          const gen = streams[r];
          const base = r * V;
          if (t === 1) {
            gen.multinomial(N, q0, V, kept, base, suffix);
            keptReal.set(kept.subarray(base, base + V), base);
            recordWeighted(r, t, kept, base, keptReal, base, N);
            continue;
          }
          temperedProbabilities(qhat, base, V, tau, sampling);
          if (kind === "mix") {
            train.fill(0);
            trainReal.fill(0);
            addMultinomial(gen, nReal, q0, trainReal, 0);
            train.set(trainReal);
            addModel(gen, r, t, train, 0);
            if (nCarry > 0) subsample(gen, kept, keptReal, base, nCarry, train, trainReal);
            kept.set(train, base);
            keptReal.set(trainReal, base);
            recordWeighted(r, t, kept, base, keptReal, base, N);
          } else if (kind === "accumulate" || kind === "accumulate-subsample") {
            if (nReal > 0) { // fresh tokens join both the counts and the real counts
              gen.multinomial(nReal, q0, V, drawn, 0, suffix);
              for (let v = 0; v < V; v++) {
                kept[base + v] += drawn[v];
                keptReal[base + v] += drawn[v];
              }
            }
            addModel(gen, r, t, kept, base);
            if (kind === "accumulate") {
              recordWeighted(r, t, kept, base, keptReal, base, poolSize);
            } else {
              train.fill(0);
              trainReal.fill(0);
              subsample(gen, kept, keptReal, base, N, train, trainReal);
              recordWeighted(r, t, train, 0, trainReal, 0, N);
            }
          } else { // augment: the real set (all real) and the model's tokens
            for (let v = 0; v < V; v++) train[v] = kept[base + v];
            addModel(gen, r, t, train, 0);
            recordWeighted(r, t, train, 0, keptReal, base, N + nModel);
          }
        }
      };
    }
  }

  // -- gmm: EM ----------------------------------------------------------------------------------
  //
  // θ is packed as [w_0..w_{K−1}, μ_0..μ_{K−1}, σ²_0..σ²_{K−1}] in a Float64Array(3K).

  function makeEm(K, floor) {
    const L = 3 * K;
    const t1 = new Float64Array(L);
    const t2 = new Float64Array(L);
    const jump = new Float64Array(L);
    const next = new Float64Array(L);
    const constant = new Float64Array(K);
    const inv2var = new Float64Array(K);
    const logp = new Float64Array(K);
    const sums = new Float64Array(3 * K);

    // M-step for component k from sums centred at its current mean (em.py's _m_update).
    function update(k, nk, shiftSum, squareSum, n, th, out) {
      out[k] = nk / n;
      if (nk > EMPTY) {
        const shift = shiftSum / nk;
        out[K + k] = th[K + k] + shift;
        out[2 * K + k] = Math.max(squareSum / nk - shift * shift, floor);
      } else {
        out[K + k] = th[K + k];
        out[2 * K + k] = th[2 * K + k];
      }
    }

    // One EM step for two live components: one exp and one log1p per point (em.py's _step2).
    function step2(x, off, n, th, out) {
      const m0 = th[2];
      const m1 = th[3];
      const a0 = Math.log(th[0]) - 0.5 * Math.log(th[4]) - LN_SQRT_2PI;
      const a1 = Math.log(th[1]) - 0.5 * Math.log(th[5]) - LN_SQRT_2PI;
      const h0 = 0.5 / th[4];
      const h1 = 0.5 / th[5];
      let n0 = 0;
      let s0 = 0;
      let q0 = 0;
      let n1 = 0;
      let s1 = 0;
      let q1 = 0;
      let logSum = 0;
      // Σ log(1 + u_i) as the log of products of (1 + u_i) ∈ (1, 2], one log per 512 points
      // (a product stays below 2^512): the same sum to about 1e−16 per point, far below tol.
      let product = 1;
      let count = 0;
      for (let i = off, end = off + n; i < end; i++) {
        const xi = x[i];
        const e0 = xi - m0;
        const e1 = xi - m1;
        const lp0 = a0 - h0 * e0 * e0;
        const lp1 = a1 - h1 * e1 * e1;
        const d = lp1 - lp0;
        const u = Math.exp(-Math.min(Math.abs(d), GAP));
        const inv = 1 / (1 + u);
        let r0;
        let r1;
        if (d >= 0) {
          r1 = inv;
          r0 = u * inv;
          logSum += lp1;
        } else {
          r0 = inv;
          r1 = u * inv;
          logSum += lp0;
        }
        product *= 1 + u;
        if (++count === 512) {
          logSum += Math.log(product);
          product = 1;
          count = 0;
        }
        n0 += r0;
        s0 += r0 * e0;
        q0 += r0 * e0 * e0;
        n1 += r1;
        s1 += r1 * e1;
        q1 += r1 * e1 * e1;
      }
      logSum += Math.log(product);
      update(0, n0, s0, q0, n, th, out);
      update(1, n1, s1, q1, n, th, out);
      return logSum / n;
    }

    // One EM step for any K and any live components (em.py's _step_general).
    function stepGeneral(x, off, n, th, out) {
      for (let k = 0; k < K; k++) {
        constant[k] = th[k] > 0
          ? Math.log(th[k]) - 0.5 * Math.log(th[2 * K + k]) - LN_SQRT_2PI : -Infinity;
        inv2var[k] = 0.5 / th[2 * K + k];
      }
      sums.fill(0);
      let total = 0;
      for (let i = off, end = off + n; i < end; i++) {
        const xi = x[i];
        let best = -Infinity;
        for (let k = 0; k < K; k++) {
          const d = xi - th[K + k];
          logp[k] = constant[k] - d * d * inv2var[k];
          if (logp[k] > best) best = logp[k];
        }
        let s = 0;
        for (let k = 0; k < K; k++) {
          logp[k] = Math.exp(logp[k] - best);
          s += logp[k];
        }
        total += best + Math.log(s);
        const inv = 1 / s;
        for (let k = 0; k < K; k++) {
          const r = logp[k] * inv;
          const d = xi - th[K + k];
          sums[k] += r;
          sums[K + k] += r * d;
          sums[2 * K + k] += r * d * d;
        }
      }
      for (let k = 0; k < K; k++) update(k, sums[k], sums[K + k], sums[2 * K + k], n, th, out);
      return total / n;
    }

    function step(x, off, n, th, out) {
      if (K === 2 && th[0] > 0 && th[1] > 0) return step2(x, off, n, th, out);
      return stepGeneral(x, off, n, th, out);
    }

    function valid(th) {
      for (let k = 0; k < K; k++) {
        if (!(th[k] >= 0 && th[k] <= 1) || !(th[2 * K + k] >= floor)) return false;
        if (!Number.isFinite(th[K + k])) return false;
      }
      return true;
    }

    // SQUAREM (Varadhan & Roland 2008, scheme S3), in place on th0, as em.py's _fit_squarem:
    // θ1 = M(θ0), θ2 = M(θ1), r = θ1 − θ0, v = θ2 − 2θ1 + θ0, α = min(−|r|/|v|, −1),
    // θ' = θ0 − 2αr + α²v (α halved towards −1 until θ' is a valid mixture), then
    // θ0 ← M(θ') if ℓ(θ') ≥ ℓ(θ1), else θ2. Stops when ℓ gains less than tol per cycle.
    function squarem(x, off, n, th0, tol, maxIter) {
      let previous = -Infinity;
      let steps = 0;
      while (steps < maxIter) {
        const ll0 = step(x, off, n, th0, t1);
        steps += 1;
        if (Math.abs(ll0 - previous) < tol || steps >= maxIter) {
          th0.set(t1);
          break;
        }
        previous = ll0;
        const ll1 = step(x, off, n, t1, t2);
        steps += 1;
        let rr = 0;
        let vv = 0;
        for (let j = 0; j < L; j++) {
          const r = t1[j] - th0[j];
          const v = t2[j] - 2 * t1[j] + th0[j];
          rr += r * r;
          vv += v * v;
        }
        if (!(vv > 0 && rr > 0) || steps >= maxIter) {
          th0.set(t2);
          continue;
        }
        let alpha = Math.min(-Math.sqrt(rr / vv), -1);
        // (steps of overflowing size make α NaN or −∞, and halving would never end: then the
        // plain EM step)
        if (!Number.isFinite(alpha)) alpha = -1;
        for (;;) {
          for (let j = 0; j < L; j++) {
            const r = t1[j] - th0[j];
            const v = t2[j] - 2 * t1[j] + th0[j];
            jump[j] = th0[j] - 2 * alpha * r + alpha * alpha * v;
          }
          if (valid(jump) || alpha >= -1) break;
          alpha = 0.5 * (alpha - 1);
        }
        if (alpha >= -1 && !valid(jump)) {
          th0.set(t2);
          continue;
        }
        const llJump = step(x, off, n, jump, next);
        steps += 1;
        th0.set(llJump >= ll1 ? next : t2);
      }
      return steps;
    }

    // -- two live components: Newton's method on the likelihood (em.py's _fit_newton2) --------
    //
    // In θ' = (w₁, μ₀, μ₁, σ²₀, σ²₁) the gradient is Σ_i Σ_k r_k s_k and the Hessian
    // Σ_i [Σ_k r_k ∇s_k + r₀r₁ (s₁ − s₀)(s₁ − s₀)ᵀ], s_k the score of log w_k φ_k; both come
    // from one E-step's centred sums and Σ r₀r₁ (x − c)^j, j ≤ 4, c = (μ₀ + μ₁)/2
    // (em.py's _gradient_hessian). Newton stops when its decrement gᵀ(−H)⁻¹g / n, the mean
    // log-likelihood another step would gain, is below tol; where the likelihood is not concave
    // Levenberg–Marquardt damps it (_fit_marquardt2); SQUAREM finishes whatever neither can.
    const sumsA = new Float64Array(11);
    const sumsB = new Float64Array(11);
    const grad = new Float64Array(5);
    const hess = new Float64Array(25);
    const system = new Float64Array(25);
    const chol = new Float64Array(25);
    const direction = new Float64Array(5);
    const emUpdate = new Float64Array(6);
    const emPrevious = new Float64Array(6);
    const point = new Float64Array(5);
    const trialPoint = new Float64Array(5);
    const trialTheta = new Float64Array(6);
    const coef = new Float64Array(15);
    const MAX_DAMPING = 1e100;

    // The E-step sums of two live components into `sums` (n_k, Σ r_k e_k, Σ r_k e_k² for k = 0,
    // 1, then Σ r₀r₁ (x − c)^j, j = 0..4); returns the mean log-likelihood if asked (else 0).
    function sums2(x, off, n, th, sums, likelihood) {
      const m0 = th[2];
      const m1 = th[3];
      const a0 = Math.log(th[0]) - 0.5 * Math.log(th[4]) - LN_SQRT_2PI;
      const a1 = Math.log(th[1]) - 0.5 * Math.log(th[5]) - LN_SQRT_2PI;
      const h0 = 0.5 / th[4];
      const h1 = 0.5 / th[5];
      const centre = 0.5 * (m0 + m1);
      let n0 = 0, s0 = 0, q0 = 0, n1 = 0, s1 = 0, q1 = 0;
      let p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0;
      let logSum = 0;
      let product = 1;
      let count = 0;
      for (let i = off, end = off + n; i < end; i++) {
        const xi = x[i];
        const e0 = xi - m0;
        const e1 = xi - m1;
        const lp0 = a0 - h0 * e0 * e0;
        const lp1 = a1 - h1 * e1 * e1;
        const d = lp1 - lp0;
        const u = Math.exp(-Math.min(Math.abs(d), GAP));
        const inv = 1 / (1 + u);
        const r1 = d >= 0 ? inv : u * inv;
        const r0 = d >= 0 ? u * inv : inv;
        n0 += r0;
        s0 += r0 * e0;
        q0 += r0 * e0 * e0;
        n1 += r1;
        s1 += r1 * e1;
        q1 += r1 * e1 * e1;
        const rr = u * inv * inv; // r₀ r₁
        const e = xi - centre;
        const e2 = e * e;
        p0 += rr;
        p1 += rr * e;
        p2 += rr * e2;
        p3 += rr * e2 * e;
        p4 += rr * e2 * e2;
        if (likelihood) {
          logSum += d >= 0 ? lp1 : lp0;
          product *= 1 + u;
          if (++count === 512) {
            logSum += Math.log(product);
            product = 1;
            count = 0;
          }
        }
      }
      sums[0] = n0; sums[1] = s0; sums[2] = q0; sums[3] = n1; sums[4] = s1; sums[5] = q1;
      sums[6] = p0; sums[7] = p1; sums[8] = p2; sums[9] = p3; sums[10] = p4;
      return likelihood ? (logSum + Math.log(product)) / n : 0;
    }

    function gradientHessian(th, sums) {
      const a = th[1];
      const n0 = sums[0];
      const s0 = sums[1];
      const q0 = sums[2];
      const n1 = sums[3];
      const s1 = sums[4];
      const q1 = sums[5];
      const v0 = th[4];
      const v1 = th[5];
      grad[0] = n1 / a - n0 / (1 - a);
      grad[1] = s0 / v0;
      grad[2] = s1 / v1;
      grad[3] = (q0 - v0 * n0) / (2 * v0 * v0);
      grad[4] = (q1 - v1 * n1) / (2 * v1 * v1);
      hess.fill(0);
      hess[0] = -n1 / (a * a) - n0 / ((1 - a) * (1 - a));
      hess[6] = -n0 / v0;
      hess[12] = -n1 / v1;
      hess[8] = hess[16] = -s0 / (v0 * v0);
      hess[14] = hess[22] = -s1 / (v1 * v1);
      hess[18] = n0 / (2 * v0 * v0) - q0 / (v0 * v0 * v0);
      hess[24] = n1 / (2 * v1 * v1) - q1 / (v1 * v1 * v1);
      // s₁ − s₀ as polynomials in e = x − c: rows of coefficients of (1, e, e²).
      const centre = 0.5 * (th[2] + th[3]);
      const d0 = centre - th[2];
      const d1 = centre - th[3];
      coef.fill(0);
      coef[0] = 1 / a + 1 / (1 - a);
      coef[3] = -d0 / v0;
      coef[4] = -1 / v0;
      coef[6] = d1 / v1;
      coef[7] = 1 / v1;
      coef[9] = -(d0 * d0 - v0) / (2 * v0 * v0);
      coef[10] = -d0 / (v0 * v0);
      coef[11] = -1 / (2 * v0 * v0);
      coef[12] = (d1 * d1 - v1) / (2 * v1 * v1);
      coef[13] = d1 / (v1 * v1);
      coef[14] = 1 / (2 * v1 * v1);
      for (let i = 0; i < 5; i++) {
        for (let j = i; j < 5; j++) {
          let total = 0;
          for (let p = 0; p < 3; p++) {
            for (let q = 0; q < 3; q++) {
              total += coef[3 * i + p] * coef[3 * j + q] * sums[6 + p + q];
            }
          }
          hess[5 * i + j] += total;
          if (j !== i) hess[5 * j + i] += total;
        }
      }
    }

    // Solve a·out = b for the symmetric 5 × 5 `a` by Cholesky; false if a is not positive
    // definite (em.py's _cholesky_solve).
    function choleskySolve(a, b, out) {
      chol.fill(0);
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j <= i; j++) {
          let s = a[5 * i + j];
          for (let k = 0; k < j; k++) s -= chol[5 * i + k] * chol[5 * j + k];
          if (i === j) {
            if (!(s > 0)) return false;
            chol[5 * i + i] = Math.sqrt(s);
          } else {
            chol[5 * i + j] = s / chol[5 * j + j];
          }
        }
      }
      for (let i = 0; i < 5; i++) {
        let s = b[i];
        for (let k = 0; k < i; k++) s -= chol[5 * i + k] * out[k];
        out[i] = s / chol[5 * i + i];
      }
      for (let i = 4; i >= 0; i--) {
        let s = out[i];
        for (let k = i + 1; k < 5; k++) s -= chol[5 * k + i] * out[k];
        out[i] = s / chol[5 * i + i];
      }
      return true;
    }

    // Newton's step into `direction`; returns the decrement, or −1 when H is not negative
    // definite.
    function newtonDirection(n, th, sums) {
      gradientHessian(th, sums);
      for (let i = 0; i < 25; i++) system[i] = -hess[i];
      if (!choleskySolve(system, grad, direction)) return -1;
      let decrement = 0;
      for (let i = 0; i < 5; i++) decrement += grad[i] * direction[i];
      return decrement / n;
    }

    // θ' = (w₁, μ₀, μ₁, σ²₀, σ²₁) into the packed θ.
    function unpack(from, th) {
      th[0] = 1 - from[0];
      th[1] = from[0];
      th[2] = from[1];
      th[3] = from[2];
      th[4] = from[3];
      th[5] = from[4];
    }

    let done = false;

    // Newton in place; returns the E-steps and sets `done` (false: θ holds an EM update for
    // the next method to finish from).
    function newton2(x, off, n, th, tol, maxIter) {
      let previousDecrement = Infinity;
      let steps = 0;
      done = false;
      while (steps < maxIter) {
        if (!(th[1] > 1e-6 && th[1] < 1 - 1e-6) || Math.min(th[4], th[5]) <= floor) break;
        sums2(x, off, n, th, sumsA, false);
        update(0, sumsA[0], sumsA[1], sumsA[2], n, th, emUpdate);
        update(1, sumsA[3], sumsA[4], sumsA[5], n, th, emUpdate);
        steps += 1;
        const decrement = newtonDirection(n, th, sumsA);
        if (decrement >= previousDecrement) { // the last Newton step did not get closer
          th.set(emPrevious);
          return steps;
        }
        if (decrement < 0) break;
        const w1 = th[1] + direction[0];
        const v0 = th[4] + direction[3];
        const v1 = th[5] + direction[4];
        if (!(w1 > 0 && w1 < 1 && v0 > floor && v1 > floor)) break;
        previousDecrement = decrement;
        emPrevious.set(emUpdate);
        th[0] = 1 - w1;
        th[1] = w1;
        th[2] += direction[1];
        th[3] += direction[2];
        th[4] = v0;
        th[5] = v1;
        if (decrement < tol) {
          done = true;
          return steps;
        }
      }
      if (steps > 0) th.set(emUpdate); // Newton cannot go on: hand over the last EM update
      return steps;
    }

    // Levenberg–Marquardt in place: (−H + λ diag|H|) Δ = g with λ raised until the system is
    // positive definite and the step gains likelihood, lowered after each accepted step. Sets
    // `done`; returns the E-steps.
    function marquardt2(x, off, n, th, tol, maxIter) {
      done = false;
      point[0] = th[1]; point[1] = th[2]; point[2] = th[3]; point[3] = th[4]; point[4] = th[5];
      let sums = sumsA;
      let spare = sumsB;
      let ll = sums2(x, off, n, th, sums, true);
      let steps = 1;
      let damping = 0;
      while (steps < maxIter) {
        unpack(point, th);
        gradientHessian(th, sums);
        for (;;) {
          for (let i = 0; i < 25; i++) system[i] = -hess[i];
          for (let i = 0; i < 5; i++) {
            system[6 * i] += damping * Math.max(Math.abs(hess[6 * i]), 1e-300);
          }
          if (choleskySolve(system, grad, direction)) break;
          damping = Math.max(4 * damping, 1e-4);
          if (damping > MAX_DAMPING) {
            unpack(point, th);
            return steps;
          }
        }
        let decrement = 0;
        for (let i = 0; i < 5; i++) decrement += grad[i] * direction[i];
        decrement /= n;
        for (let i = 0; i < 5; i++) trialPoint[i] = point[i] + direction[i];
        const valid = trialPoint[0] > 0 && trialPoint[0] < 1 && trialPoint[3] > floor &&
          trialPoint[4] > floor;
        if (damping === 0 && decrement < tol && valid) {
          unpack(trialPoint, th);
          done = true;
          return steps;
        }
        if (!valid) {
          damping = Math.max(4 * damping, 1e-4);
          if (damping > MAX_DAMPING) {
            unpack(point, th);
            return steps;
          }
          continue;
        }
        unpack(trialPoint, trialTheta);
        const trialLl = sums2(x, off, n, trialTheta, spare, true);
        steps += 1;
        if (trialLl >= ll) {
          if (trialLl - ll <= 4e-16 * Math.abs(ll) && damping > 0) {
            unpack(trialPoint, th); // flat to double precision: as high as it gets
            done = true;
            return steps;
          }
          point.set(trialPoint);
          [sums, spare] = [spare, sums];
          ll = trialLl;
          damping = damping > 1e-8 ? damping / 4 : 0;
        } else {
          damping = Math.max(4 * damping, 1e-4);
        }
      }
      unpack(point, th);
      return steps;
    }

    // em.py's _fit_accelerated for two or more live components: Newton, then Marquardt, then
    // SQUAREM, each taking over where the one before cannot go on.
    function accelerated(x, off, n, th, tol, maxIter) {
      let used = 0;
      if (K === 2 && th[0] > 0 && th[1] > 0) {
        used = newton2(x, off, n, th, tol, maxIter);
        if (done || used >= maxIter) return used;
        if (th[1] > 1e-9 && th[1] < 1 - 1e-9 && Math.min(th[4], th[5]) > floor) {
          used += marquardt2(x, off, n, th, tol, maxIter - used);
          if (done || used >= maxIter) return used;
        }
      }
      return used + squarem(x, off, n, th, tol, maxIter - used);
    }

    // Fit θ (in place, the warm start) to x[off .. off + n); components sorted by mean.
    // Returns the E-steps used.
    function fit(x, off, n, th) {
      let steps = 1;
      let alive = 0;
      let last = 0;
      for (let k = 0; k < K; k++) {
        if (th[k] > 0) {
          alive += 1;
          last = k;
        }
      }
      if (alive === 1) { // the others dead: a single normal, in closed form (em.py's _fit_single)
        for (let k = 0; k < K; k++) th[k] = 0;
        th[last] = 1;
        let total = 0;
        for (let i = off; i < off + n; i++) total += x[i];
        const mean = total / n;
        let square = 0;
        for (let i = off; i < off + n; i++) square += (x[i] - mean) * (x[i] - mean);
        th[K + last] = mean;
        th[2 * K + last] = Math.max(square / n, floor);
      } else {
        steps = accelerated(x, off, n, th, GMM_TOL, GMM_MAX_ITER);
      }
      sortComponentsByMean(th, K);
      return steps;
    }

    return { fit, step, squarem };
  }

  // The standard normal density, 0 at ±∞.
  function phi(z) {
    return Number.isFinite(z) ? Math.exp(-0.5 * z * z) / 2.5066282746310002 : 0;
  }

  // Φ⁻¹ from whichever tail is smaller (warm_start._cut): lower = 1 − upper.
  function cut(lower, upper) {
    return lower <= upper ? MCX.random.ndtri(Math.min(lower, 1))
      : -MCX.random.ndtri(Math.min(upper, 1));
  }

  // warm_start.split_coinciding on one replicate's θ, in place: each group of coinciding live
  // components becomes the hard split of the normal with the group's moments at its quantiles
  // (weights kept; the group's mean and variance, hence the mixture's, unchanged).
  function splitCoinciding(th, K, floor) {
    // A quick test first, as the package's: means within TIE of the widest component's sd
    // (θ is sorted by mean: the truth is, and every fit is sorted), else nothing to split.
    let widest = 0;
    for (let k = 0; k < K; k++) widest = Math.max(widest, th[2 * K + k]);
    const reach = TIE * Math.sqrt(widest);
    let near = false;
    for (let k = 1; k < K; k++) if (!(th[K + k] - th[K + k - 1] > reach)) near = true;
    if (!near) return;
    const w = Array.from(th.subarray(0, K));
    const mu = Array.from(th.subarray(K, 2 * K));
    const va = Array.from(th.subarray(2 * K, 3 * K));
    const alive = w.map((wk, k) => wk > 0 && Number.isFinite(va[k]));
    const close = (i, j) => alive[i] && alive[j] &&
      Math.abs(mu[i] - mu[j]) <= TIE * Math.sqrt(Math.max(va[i], va[j])) &&
      Math.abs(va[i] - va[j]) <= TIE * Math.max(va[i], va[j]);
    const leader = [];
    for (let j = 0; j < K; j++) {
      let first = j;
      for (let i = 0; i < K; i++) {
        if (close(i, j)) {
          first = i;
          break;
        }
      }
      leader.push(first);
    }
    for (let j = 0; j < K; j++) {
      const members = [];
      for (let i = 0; i < K; i++) if (alive[i] && leader[i] === leader[j]) members.push(i);
      if (!alive[j] || members.length < 2) continue;
      let total = 0;
      let mean = 0;
      for (const i of members) {
        total += w[i];
        mean += w[i] * mu[i];
      }
      mean /= total;
      let groupVar = 0;
      let below = 0;
      let after = 0;
      for (const i of members) {
        groupVar += w[i] * (va[i] + (mu[i] - mean) ** 2);
        if (i < j) below += w[i];
        if (i > j) after += w[i];
      }
      groupVar /= total;
      below /= total;
      after /= total;
      const p = w[j] / total;
      const a = cut(below, p + after);
      const b = cut(below + p, after);
      const aPhi = Number.isFinite(a) ? a * phi(a) : 0;
      const bPhi = Number.isFinite(b) ? b * phi(b) : 0;
      let shift = (phi(a) - phi(b)) / p;
      let scale = 1 + (aPhi - bPhi) / p - shift * shift;
      shift = Math.min(Math.max(shift, a), b);
      if (!Number.isFinite(shift)) shift = 0;
      scale = Number.isFinite(scale) ? Math.min(Math.max(scale, 0), 1) : 1;
      th[K + j] = mean + Math.sqrt(groupVar) * shift;
      th[2 * K + j] = Math.max(groupVar * scale, floor);
    }
  }

  // n draws of a mixture into out[offset ..): component counts by a chain of binomials (the
  // last live component takes the rest), then each component's normals (gmm/sampling.py).
  function drawMixture(gen, w, mu, sd, K, n, out, offset) {
    let last = K - 1;
    while (last > 0 && w[last] <= 0) last -= 1;
    let remaining = n;
    let rest = 1;
    let at = offset;
    for (let k = 0; k <= last; k++) {
      let count;
      if (k === last) count = remaining;
      else if (remaining === 0 || rest <= 0) count = 0;
      else count = gen.binomial(remaining, Math.min(Math.max(w[k] / rest, 0), 1));
      for (let i = 0; i < count; i++) out[at++] = mu[k] + sd[k] * gen.normal();
      remaining -= count;
      rest -= w[k];
    }
  }

  // Weighted EM on x[off .. off + n) with weights ω[0 .. n) (summing to 1), in place on θ:
  // gmm/weighted.py's fit_block_weighted, plain EM from the warm start, stopping when the
  // weighted mean log-likelihood ℓ = Σ ω_i log Σ_k w_k φ(x_i) gains less than the tolerance
  // (at most GMM_MAX_ITER E-steps); n_k = Σ ω r_ik is the new weight, a component with
  // n_k < EMPTY keeps its mean and variance; components sorted by mean at the end.
  function makeWeightedEm(K, floor) {
    const next = new Float64Array(3 * K);
    const logTerms = new Float64Array(K);
    const logW = new Float64Array(K);
    const halfLogVar = new Float64Array(K);
    const nk = new Float64Array(K);
    const shift = new Float64Array(K);
    const square = new Float64Array(K);
    function step(x, omega, off, n, th) {
      for (let k = 0; k < K; k++) {
        logW[k] = th[k] > 0 ? Math.log(th[k]) : -Infinity;
        halfLogVar[k] = 0.5 * Math.log(th[2 * K + k]);
        nk[k] = 0;
        shift[k] = 0;
        square[k] = 0;
      }
      let ll = 0;
      for (let i = 0; i < n; i++) {
        const xi = x[off + i];
        let top = -Infinity;
        for (let k = 0; k < K; k++) {
          const d = xi - th[K + k];
          const term = logW[k] - halfLogVar[k] - LN_SQRT_2PI - (0.5 * d * d) / th[2 * K + k];
          logTerms[k] = term;
          if (term > top) top = term;
        }
        let total = 0;
        for (let k = 0; k < K; k++) {
          logTerms[k] = logTerms[k] > -Infinity ? Math.exp(logTerms[k] - top) : 0;
          total += logTerms[k];
        }
        ll += omega[i] * (top + Math.log(total));
        for (let k = 0; k < K; k++) {
          const r = (omega[i] * logTerms[k]) / total;
          const d = xi - th[K + k]; // about the current mean: a collapsed component's digits kept
          nk[k] += r;
          shift[k] += r * d;
          square[k] += r * d * d;
        }
      }
      for (let k = 0; k < K; k++) {
        next[k] = nk[k];
        if (nk[k] < EMPTY) {
          next[K + k] = th[K + k];
          next[2 * K + k] = th[2 * K + k];
          continue;
        }
        const move = shift[k] / nk[k];
        next[K + k] = th[K + k] + move;
        next[2 * K + k] = Math.max(square[k] / nk[k] - move * move, floor);
      }
      th.set(next);
      return ll;
    }
    return function fit(x, omega, off, n, th) {
      let previous = -Infinity;
      let used = 0;
      while (used < GMM_MAX_ITER) {
        const ll = step(x, omega, off, n, th);
        used += 1;
        if (Math.abs(ll - previous) < GMM_TOL) break;
        previous = ll;
      }
      sortComponentsByMean(th, K);
      return used;
    };
  }

  function gmmSimulator(env) {
    const { cfg, R, G, N, streams } = env;
    const { kind, real: nReal, synthetic: nModel, carry: nCarry } = env.pieces;
    const K = cfg.means.length;
    const L = 3 * K;
    const w0 = Float64Array.from(cfg.weights);
    const mu0 = Float64Array.from(cfg.means);
    const sd0 = Float64Array.from(cfg.stds);
    const var0 = sd0.map((s) => s * s);
    const lambda2 = cfg.scale * cfg.scale;
    const checkBlown = cfg.scale > 1;
    const stride = G + 1;
    const metrics = env.metrics;
    const components = { mean: [], std: [], weight: [] };
    for (let k = 0; k < K; k++) {
      components.mean.push(metrics[`mean_${k}`]);
      components.std.push(metrics[`std_${k}`]);
      components.weight.push(metrics[`weight_${k}`]);
    }
    const theta = new Float64Array(R * L);
    const em = makeEm(K, GMM_VAR_FLOOR);
    const start = new Float64Array(L);
    const w = new Float64Array(K);
    const mu = new Float64Array(K);
    const sd = new Float64Array(K);
    // The points: replace/mix the training set (N); accumulate the pool (N·G), all of it the
    // training set; accumulate-subsample the pool plus a training set of N; augment the real
    // set (N) and ⌊λN⌋ model samples after it. A weighted fit keeps each point's provenance.
    const capacity = kind === "mix" ? N
      : kind === "augment" ? N + nModel : N * G;
    const data = new Float64Array(R * capacity);
    const subsample = kind === "accumulate-subsample" ? new Float64Array(N) : null;
    const weight = cfg.real_weight;
    const flags = weight === null ? null : new Uint8Array(R * capacity);
    const subsampleFlags = flags !== null && subsample !== null ? new Uint8Array(N) : null;
    const weightedEm = weight === null ? null : makeWeightedEm(K, GMM_VAR_FLOOR);
    const omega = weight === null ? null : new Float64Array(Math.max(capacity, N));
    let poolSize = 0;

    const logTruth = (x) => mixtureLogpdf(x, w0, mu0, var0, K, 0, 0, 0);
    const rewards = rewardData(cfg);
    const rewardOut = metrics.reward || null;
    const acceptOut = metrics.accept_rate || null;
    // Quadrature nodes and weights of continuous.normal_expectation (the truth reward)
    const nodes = [];
    for (let i = 0; ; i++) {
      const z = -QUADRATURE_HALF_WIDTH + i * QUADRATURE_STEP;
      if (z > QUADRATURE_HALF_WIDTH + QUADRATURE_STEP / 2) break;
      nodes.push(z);
    }
    const nodeWeights = nodes.map((z) => (QUADRATURE_STEP * Math.exp(-0.5 * z * z)) /
      Math.sqrt(2 * Math.PI));
    // E_model r of θ at th[b ..]: the truth's log density by the trapezoidal rule in each
    // component's standard units, or −(var + (mean − c)²)/2 for target:c
    const expectedReward = (th, b, mean, variance) => {
      if (!rewards.truth) return -0.5 * (variance + (mean - rewards.target) ** 2);
      let total = 0;
      for (let k = 0; k < K; k++) {
        const wk = th[b + k];
        if (!(wk > 0)) continue;
        const m = th[b + K + k];
        const s = Math.sqrt(th[b + 2 * K + k]);
        let value = 0;
        for (let i = 0; i < nodes.length; i++) value += nodeWeights[i] * logTruth(m + s * nodes[i]);
        total += wk * value;
      }
      return total;
    };

    // The mixture's mean and total variance Σ w (σ² + (μ − mean)²) (centred: no cancellation
    // when the variance is small next to the mean²; a dead component adds nothing), and each
    // component's, of θ at th[b ..].
    const record = (r, t, th, b) => {
      let mean = 0;
      for (let k = 0; k < K; k++) mean += th[b + k] * th[b + K + k];
      let total = 0;
      for (let k = 0; k < K; k++) {
        const e = th[b + K + k] - mean;
        if (th[b + k] > 0) total += th[b + k] * (th[b + 2 * K + k] + e * e);
      }
      const at = r * stride + t;
      metrics.mean[at] = mean;
      metrics.var[at] = total;
      for (let k = 0; k < K; k++) {
        components.mean[k][at] = th[b + K + k];
        components.std[k][at] = Math.sqrt(th[b + 2 * K + k]);
        components.weight[k][at] = th[b + k];
      }
      if (rewardOut !== null) rewardOut[at] = expectedReward(th, b, mean, total);
    };
    const truthTheta = new Float64Array(L);
    truthTheta.set(w0, 0);
    truthTheta.set(mu0, K);
    for (let k = 0; k < K; k++) truthTheta[2 * K + k] = sd0[k] * sd0[k];

    const drawTruth = (gen, count, out, offset) => {
      drawMixture(gen, w0, mu0, sd0, K, count, out, offset);
      if (flags !== null) flags.fill(1, offset, offset + count);
    };

    // The curated model group: candidates are i.i.d. draws of the model's mixture with every
    // standard deviation times λ (a component by inversion of the weights, then its normal: the
    // law of gmm draw_units, which shuffles its grouped draws), scored under the fit's own
    // mixture (top, bottom), the sampled one (reweight), the truth, the verifier's belief
    // (log p_truth(x − δ) − max log p_truth, at most 0) and the reward.
    const curate = curationActive(cfg) ? continuousCurator(cfg, {
      belief: (() => {
        const peak = curationActive(cfg) && cfg.curation === "verifier"
          ? mixtureLogPeak(w0, mu0, var0) : 0;
        return (x) => Math.min(logTruth(x - cfg.shift) - peak, 0);
      })(),
      score: rewards === null ? null : rewards.truth ? logTruth
        : (x) => -0.5 * (x - rewards.target) * (x - rewards.target),
    }) : null;
    const fittedVar = new Float64Array(K);
    const sampledVar = new Float64Array(K);
    const cumulative = new Float64Array(K);
    const model = {
      draw: (gen) => {
        const u = gen.uniform() * cumulative[K - 1];
        let k = 0;
        while (k < K - 1 && !(cumulative[k] > u)) k += 1;
        return mu[k] + sd[k] * gen.normal();
      },
      fitted: (x) => mixtureLogpdf(x, w, mu, fittedVar, K, 0, 0, 0),
      logRatio: (x) => logTruth(x) - mixtureLogpdf(x, w, mu, sampledVar, K, 0, 0, 0),
    };

    // Model r's mixture with every component's standard deviation times λ.
    const drawModel = (gen, r, t, count, out, offset) => {
      const base = r * L;
      for (let k = 0; k < K; k++) {
        w[k] = theta[base + k];
        mu[k] = theta[base + K + k];
        sd[k] = Math.sqrt(theta[base + 2 * K + k] * lambda2);
      }
      if (curate === null || count === 0) {
        drawMixture(gen, w, mu, sd, K, count, out, offset);
      } else {
        let total = 0;
        for (let k = 0; k < K; k++) {
          fittedVar[k] = theta[base + 2 * K + k];
          sampledVar[k] = theta[base + 2 * K + k] * lambda2;
          total += w[k] > 0 ? w[k] : 0;
          cumulative[k] = total;
        }
        acceptOut[r * stride + t] = count / curate(gen, count, model, out, offset);
      }
      if (flags !== null) flags.fill(0, offset, offset + count);
    };

    // Fit replicate r's θ to x[off .. off + n), warm from its previous fit (weighted by the
    // points' provenance `real` when the fit weighs real data).
    const fitReplicate = (r, x, off, n, real) => {
      const base = r * L;
      start.set(theta.subarray(base, base + L));
      let blown = false;
      if (checkBlown) {
        for (let i = off; i < off + n; i++) {
          if (!(Math.abs(x[i]) <= BLOWN_UP)) {
            blown = true;
            break;
          }
        }
      }
      if (blown) { // not fitted: weights and means kept, variances infinite (absorbing)
        for (let k = 0; k < K; k++) theta[base + 2 * K + k] = Infinity;
        return;
      }
      splitCoinciding(start, K, GMM_VAR_FLOOR);
      if (weightedEm === null) {
        em.fit(x, off, n, start);
      } else { // ω = W_r/n_r per real point, W_s/n_s per synthetic one (sample_weights)
        let nr = 0;
        for (let i = off; i < off + n; i++) nr += real[i];
        const wReal = realShare(nr, n - nr, weight);
        const each = [(1 - wReal) / Math.max(n - nr, 1), wReal / Math.max(nr, 1)];
        for (let i = 0; i < n; i++) omega[i] = each[real[off + i]];
        weightedEm(x, omega, off, n, start);
      }
      theta.set(start, base);
    };
    const choose = flags === null ? chooseWithoutReplacement
      : (gen, x, offset, size, m) => chooseWithFlags(gen, x, flags, offset, size, m);

    return {
      truth() {
        for (let r = 0; r < R; r++) {
          theta.set(truthTheta, r * L);
          record(r, 0, truthTheta, 0);
        }
      },
      advance(t) {
        poolSize = t === 1 ? N : poolSize + N;
        for (let r = 0; r < R; r++) {
          const gen = streams[r];
          const base = r * capacity;
          let x = data;
          let real = flags;
          let off = base;
          let n = N;
          if (t === 1) {
            drawTruth(gen, N, data, base);
          } else if (kind === "mix") {
            if (nCarry > 0) choose(gen, data, base, N, nCarry);
            drawTruth(gen, nReal, data, base + nCarry);
            drawModel(gen, r, t, nModel, data, base + nCarry + nReal);
          } else if (kind === "augment") {
            drawModel(gen, r, t, nModel, data, base + N);
            n = N + nModel;
          } else {
            const end = base + poolSize - N;
            drawTruth(gen, nReal, data, end);
            drawModel(gen, r, t, N - nReal, data, end + nReal);
            if (kind === "accumulate") {
              n = poolSize;
            } else {
              choose(gen, data, base, poolSize, N);
              subsample.set(data.subarray(base, base + N));
              if (subsampleFlags !== null) subsampleFlags.set(flags.subarray(base, base + N));
              x = subsample;
              real = subsampleFlags;
              off = 0;
            }
          }
          fitReplicate(r, x, off, n, real);
          record(r, t, theta, r * L);
        }
      },
    };
  }

  const SIMULATORS = {
    coin: coinSimulator,
    gaussian: gaussianSimulator,
    categorical: categoricalSimulator,
    gmm: gmmSimulator,
  };

  // -- the job ----------------------------------------------------------------------------------

  function now() {
    return typeof performance !== "undefined" ? performance.now() : Date.now();
  }

  function start(config) {
    const cfg = normalize(config);
    const R = cfg.replicates;
    const G = cfg.generations;
    const metrics = {};
    for (const name of metricNames(cfg)) metrics[name] = new Float64Array(R * (G + 1)).fill(NaN);
    const absorbed = cfg.family === "coin" ? new Float64Array(G + 1).fill(NaN) : null;
    const env = {
      cfg, R, G, N: cfg.n, pieces: MCX.theory.pieces(cfg), streams: makeStreams(cfg.seed, R),
      metrics, absorbed,
    };
    const simulator = SIMULATORS[cfg.family](env);
    // accept_rate is 1 where nothing was curated: generations 0 and 1 (the truth, its own
    // samples), and every generation of a policy without a model group; the simulators write
    // the others.
    const accept = metrics.accept_rate || null;
    const uncurated = (t) => {
      if (accept !== null && (t <= 1 || env.pieces.synthetic === 0)) {
        for (let r = 0; r < R; r++) accept[r * (G + 1) + t] = 1;
      }
    };
    simulator.truth();
    uncurated(0);
    const job = {
      config: cfg,
      result: { generations: G, replicates: R, metrics, absorbed },
      generation: 0,
      get done() {
        return job.generation >= G;
      },
      // Advance k more generations (all replicates); true when the run is done.
      step(k = 1) {
        if (!(typeof k === "number" && k >= 1)) {
          throw new Error(`step takes k ≥ 1 (got ${shown(k)})`);
        }
        const end = Math.min(G, job.generation + Math.floor(k));
        while (job.generation < end) {
          simulator.advance(job.generation + 1);
          uncurated(job.generation + 1);
          job.generation += 1;
        }
        return job.done;
      },
      // Advance whole generations for about `milliseconds` (at least one); true when done.
      stepFor(milliseconds) {
        const deadline = now() + milliseconds;
        do {
          job.step(1);
        } while (!job.done && now() < deadline);
        return job.done;
      },
    };
    return job;
  }

  // One fit of the page's EM, as each generation of the gmm makes it: `start` = { weights,
  // means, variances } (the warm start; coinciding components are split first), variance
  // floor 1e−6, to convergence. Returns the fit sorted by mean and the E-steps used.
  function fitMixture(points, start) {
    const K = start.means.length;
    const th = new Float64Array(3 * K);
    for (let k = 0; k < K; k++) {
      th[k] = start.weights[k];
      th[K + k] = start.means[k];
      th[2 * K + k] = start.variances[k];
    }
    splitCoinciding(th, K, GMM_VAR_FLOOR);
    const x = Float64Array.from(points);
    const steps = makeEm(K, GMM_VAR_FLOOR).fit(x, 0, x.length, th);
    return {
      weights: Array.from(th.subarray(0, K)), means: Array.from(th.subarray(K, 2 * K)),
      variances: Array.from(th.subarray(2 * K)), steps,
    };
  }

  function run(config) {
    const job = start(config);
    job.step(Infinity);
    return job.result;
  }

  const sim = {
    run, start, normalize, fitMixture, metricNames: (config) => metricNames(normalize(config)),
    FAMILIES, POLICIES, CURATIONS,
  };
  MCX.sim = sim;
  if (typeof module !== "undefined") module.exports = sim;
})();
