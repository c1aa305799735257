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
    const bytes = workingBytes(out);
    if (bytes > MAX_BYTES) {
      throw new Error(`replicates × generations × n is too large for the page (about ` +
                      `${Math.round(bytes / 2 ** 20)} MiB of working memory; at most ` +
                      `${Math.round(MAX_BYTES / 2 ** 20)} MiB)`);
    }
    return out;
  }

  // Bytes of typed arrays a run allocates (metrics, state, kept points).
  function workingBytes(cfg) {
    const r = cfg.replicates;
    const g = cfg.generations;
    let bytes = 8 * r * (g + 1) * metricNames(cfg).length + 64 * r;
    const pointsKept = (cfg.policy === "accumulate" || cfg.policy === "accumulate-subsample")
      ? cfg.n * g : cfg.n + (cfg.policy === "augment" ? cfg.n * cfg.synthetic : 0);
    if (cfg.family === "categorical") bytes += 8 * 3 * r * cfg.vocab;
    if (cfg.family === "gmm") bytes += 8 * r * (pointsKept + cfg.n);
    if (cfg.family === "gaussian" && cfg.policy === "accumulate-subsample") {
      bytes += 8 * r * pointsKept;
    }
    if (cfg.family === "gaussian" && cfg.policy === "mix") bytes += 8 * r * cfg.n;
    return bytes;
  }

  function metricNames(cfg) {
    switch (cfg.family) {
      case "coin": return ["p"];
      case "gaussian": return ["mean", "var"];
      case "categorical": return ["gini_simpson", "support", "entropy"];
      default: {
        const k = (cfg.means || [-2, 2]).length;
        const names = ["var", "mean"];
        for (const part of ["mean", "std", "weight"]) {
          for (let i = 0; i < k; i++) names.push(`${part}_${i}`);
        }
        return names;
      }
    }
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

    function record(r, t, h, size) {
      const value = h / size;
      phat[r] = value;
      p[r * stride + t] = value;
      if (!hit[r] && (h === 0 || h === size)) {
        hit[r] = 1;
        hits += 1;
      }
    }

    return {
      truth() {
        for (let r = 0; r < R; r++) {
          p[r * stride] = p0;
          if (p0 === 0 || p0 === 1) hit[r] = 1;
        }
        hits = p0 === 0 || p0 === 1 ? R : 0;
        env.absorbed[0] = hits / R;
      },
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
            let h = gen.binomial(nReal, p0) + gen.binomial(nModel, pt);
            if (nCarry > 0) h += gen.hypergeometric(heads[r], N - heads[r], nCarry);
            heads[r] = h;
            record(r, t, h, N);
          } else if (kind === "accumulate" || kind === "accumulate-subsample") {
            heads[r] += gen.binomial(nReal, p0) + gen.binomial(nModel, pt);
            poolSize[r] += N;
            if (kind === "accumulate") {
              record(r, t, heads[r], poolSize[r]);
            } else {
              record(r, t, gen.hypergeometric(heads[r], poolSize[r] - heads[r], N), N);
            }
          } else { // augment: the real set's heads plus ⌊λN⌋ model tosses
            record(r, t, heads[r] + gen.binomial(nModel, pt), N + nModel);
          }
        }
        env.absorbed[t] = hits / R;
      },
    };
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

    function fit(r, t, mean, m2, size) {
      const v = m2 / (mle ? size : size - 1);
      if (Number.isFinite(mean) && Number.isFinite(v)) {
        mu[r] = mean;
        va[r] = v;
      } else { // blown up (λ > 1 only): var = ∞, the last finite mean kept (absorbing)
        va[r] = Infinity;
      }
      outMean[r * stride + t] = mu[r];
      outVar[r * stride + t] = va[r];
    }

    const common = {
      truth() {
        for (let r = 0; r < R; r++) {
          outMean[r * stride] = mean0;
          outVar[r * stride] = var0;
          mu[r] = mean0;
          va[r] = var0;
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
                drawGroup(gen, nModel, mu[r], modelVar);
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
    // a partial shuffle).
    const capacity = kind === "mix" ? N : N * G;
    const data = new Float64Array(R * capacity);
    let poolSize = 0;
    const drawPoints = (gen, offset, m, center, sd) => {
      for (let i = 0; i < m; i++) data[offset + i] = center + sd * gen.normal();
    };
    const fitPoints = (r, t, offset) => {
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
    return Object.assign(common, {
      advance(t) {
        poolSize = t === 1 ? N : poolSize + N;
        for (let r = 0; r < R; r++) {
          const gen = streams[r];
          const base = r * capacity;
          if (t === 1) {
            drawPoints(gen, base, N, mean0, sd0);
          } else {
            const modelSd = Math.sqrt(va[r] * lambda2);
            if (kind === "mix") {
              chooseWithoutReplacement(gen, data, base, N, nCarry);
              drawPoints(gen, base + nCarry, nReal, mean0, sd0);
              drawPoints(gen, base + nCarry + nReal, nModel, mu[r], modelSd);
            } else {
              const end = base + poolSize - N;
              drawPoints(gen, end, nReal, mean0, sd0);
              drawPoints(gen, end + nReal, N - nReal, mu[r], modelSd);
              chooseWithoutReplacement(gen, data, base, poolSize, N);
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

    const addMultinomial = (gen, m, probs, target, offset) => {
      if (m === 0) return;
      gen.multinomial(m, probs, V, drawn, 0, suffix);
      for (let v = 0; v < V; v++) target[offset + v] += drawn[v];
    };
    const record = (r, t, counts, offset, size) => {
      const base = r * V;
      for (let v = 0; v < V; v++) qhat[base + v] = counts[offset + v] / size;
      const [g, s, e] = categoricalMetrics(qhat, base, V);
      gini[r * stride + t] = g;
      support[r * stride + t] = s;
      entropy[r * stride + t] = e;
    };

    return {
      truth() {
        const [g, s, e] = categoricalMetrics(q0, 0, V);
        for (let r = 0; r < R; r++) {
          gini[r * stride] = g;
          support[r * stride] = s;
          entropy[r * stride] = e;
        }
      },
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
            addMultinomial(gen, nModel, sampling, train, 0);
            if (nCarry > 0) {
              gen.multivariateHypergeometric(kept, V, nCarry, drawn, 0, base);
              for (let v = 0; v < V; v++) train[v] += drawn[v];
            }
            kept.set(train, base);
            record(r, t, kept, base, N);
          } else if (kind === "accumulate" || kind === "accumulate-subsample") {
            addMultinomial(gen, nReal, q0, kept, base);
            addMultinomial(gen, nModel, sampling, kept, base);
            if (kind === "accumulate") {
              record(r, t, kept, base, poolSize);
            } else {
              gen.multivariateHypergeometric(kept, V, N, train, 0, base);
              record(r, t, train, 0, N);
            }
          } else { // augment
            for (let v = 0; v < V; v++) train[v] = kept[base + v];
            addMultinomial(gen, nModel, sampling, train, 0);
            record(r, t, train, 0, N + nModel);
          }
        }
      },
    };
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
      // Insertion sort by mean (K is tiny), carrying each component's weight and variance.
      for (let i = 1; i < K; i++) {
        for (let j = i; j > 0 && th[K + j - 1] > th[K + j]; j--) {
          for (const block of [0, K, 2 * K]) {
            const kept = th[block + j - 1];
            th[block + j - 1] = th[block + j];
            th[block + j] = kept;
          }
        }
      }
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

  function gmmSimulator(env) {
    const { cfg, R, G, N, streams } = env;
    const { kind, real: nReal, synthetic: nModel, carry: nCarry } = env.pieces;
    const K = cfg.means.length;
    const L = 3 * K;
    const w0 = Float64Array.from(cfg.weights);
    const mu0 = Float64Array.from(cfg.means);
    const sd0 = Float64Array.from(cfg.stds);
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
    // set (N) and ⌊λN⌋ model samples after it.
    const capacity = kind === "mix" ? N
      : kind === "augment" ? N + nModel : N * G;
    const data = new Float64Array(R * capacity);
    const subsample = kind === "accumulate-subsample" ? new Float64Array(N) : null;
    let poolSize = 0;

    // The mixture's mean and total variance Σ w (σ² + (μ − mean)²) (centred: no cancellation
    // when the variance is small next to the mean²), and each component's, of θ at th[b ..].
    const record = (r, t, th, b) => {
      let mean = 0;
      for (let k = 0; k < K; k++) mean += th[b + k] * th[b + K + k];
      let total = 0;
      for (let k = 0; k < K; k++) {
        const e = th[b + K + k] - mean;
        total += th[b + k] * (th[b + 2 * K + k] + e * e);
      }
      const at = r * stride + t;
      metrics.mean[at] = mean;
      metrics.var[at] = total;
      for (let k = 0; k < K; k++) {
        components.mean[k][at] = th[b + K + k];
        components.std[k][at] = Math.sqrt(th[b + 2 * K + k]);
        components.weight[k][at] = th[b + k];
      }
    };
    const truthTheta = new Float64Array(L);
    truthTheta.set(w0, 0);
    truthTheta.set(mu0, K);
    for (let k = 0; k < K; k++) truthTheta[2 * K + k] = sd0[k] * sd0[k];

    const drawTruth = (gen, count, out, offset) => {
      drawMixture(gen, w0, mu0, sd0, K, count, out, offset);
    };
    // Model r's mixture with every component's standard deviation times λ.
    const drawModel = (gen, r, count, out, offset) => {
      const base = r * L;
      for (let k = 0; k < K; k++) {
        w[k] = theta[base + k];
        mu[k] = theta[base + K + k];
        sd[k] = Math.sqrt(theta[base + 2 * K + k] * lambda2);
      }
      drawMixture(gen, w, mu, sd, K, count, out, offset);
    };

    // Fit replicate r's θ to x[off .. off + n), warm from its previous fit.
    const fitReplicate = (r, x, off, n) => {
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
      em.fit(x, off, n, start);
      theta.set(start, base);
    };

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
          let off = base;
          let n = N;
          if (t === 1) {
            drawTruth(gen, N, data, base);
          } else if (kind === "mix") {
            if (nCarry > 0) chooseWithoutReplacement(gen, data, base, N, nCarry);
            drawTruth(gen, nReal, data, base + nCarry);
            drawModel(gen, r, nModel, data, base + nCarry + nReal);
          } else if (kind === "augment") {
            drawModel(gen, r, nModel, data, base + N);
            n = N + nModel;
          } else {
            const end = base + poolSize - N;
            drawTruth(gen, nReal, data, end);
            drawModel(gen, r, N - nReal, data, end + nReal);
            if (kind === "accumulate") {
              n = poolSize;
            } else {
              chooseWithoutReplacement(gen, data, base, poolSize, N);
              subsample.set(data.subarray(base, base + N));
              x = subsample;
              off = 0;
            }
          }
          fitReplicate(r, x, off, n);
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
    simulator.truth();
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
    FAMILIES, POLICIES,
  };
  MCX.sim = sim;
  if (typeof module !== "undefined") module.exports = sim;
})();
