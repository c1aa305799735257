// theory.js: MCX.theory, the exact results of modelcollapse.theory for the explorer's families.
//
// `MCX.theory.predict(config)` is a port of `mc.predict` (theory/prediction.py) for the page's
// runs: the coin, the Gaussian, the categorical (Zipf) model and the 1-D GMM under replace, mix
// (with and without carry-over), accumulate, accumulate-subsample and augment, with the
// sampling bias (coin/categorical temperature τ, gaussian/gmm scale λ), the weighted fit
// (real_weight) and curation (best-of, verifier, top, bottom, reweight, with the rewards). Its
// curves, labels, bands, facts and notes are mc.predict's, value for value
// (tests/test_explorer_theory.py and test_explorer_theory_curation.py compare them to 1e-9).
// What it computes, and how:
//
// * coin, replace and mix: the law of the training set's head count H_t, a (k + 1)-state chain
//   (theory/coin.py): H_{t+1} = X + Y + Z with X ~ Bin(m, p0) fresh, Y ~ Bin(s, f(H/k)) model
//   tosses (f the tempering map logistic(logit(p)/τ)) and Z ~ Hypergeom(k, H, c) carried over.
//   Since X does not depend on H, one step is `law ← (Σ_i law_i R_i) ⊛ Bin(m, p0)` with R_i the
//   law of Y + Z given H = i, a row centred near E[Y + Z] and a few standard deviations wide.
//   Each law is kept only on its band: walking out from the mode, a side is cut where its whole
//   remaining tail is below BAND_TAIL = 1e-17 (bounded by the geometric series of the mass's
//   decreasing ratios: both laws are log-concave). A step then moves at most 6e-17 of
//   probability (three laws, two sides each), and the product being L1-contracting, G steps
//   move less than 1e-12 for G up to 16 000: the result is the full product's to 1e-12. (For
//   k = 1000 a row holds about 210 of its 1001 states.) The product is taken column by column,
//   each column serving twice by the chain's symmetry (chainStep). E p_t and the 5–95%
//   quantiles (_law_quantiles) come from the laws; P(touched 0 or 1 by t) (coin_hitting_cdf)
//   is the chain's own mass at 0 and k without fresh tosses, and with them the copy of the
//   chain in which 0 and k absorb, or, when Σ_t P(H_t ∈ {0, k}) ≤ HIT_BOUND = 1e-13 over the
//   run (k = 1000 with 10% fresh tosses: about 1e-300), that sum, the first touch's law to
//   within 1e-13.
// * coin facts: the absorption time's mean and variance under replace solve (I − Q) m = 1 and
//   (I − Q) s = 2m − 1 (Q the transient block), the fixation probability (I − Q) b = Q[·, k];
//   Q is banded, so the solve is an LU without pivoting within the band's envelope, done
//   entrywise accurately for the M-matrix I − Q (pivots from row sums, never 1 − Q_ii), and at
//   τ = 1 on the system folded by the chain's symmetry (half the work). The stationary law of
//   mix with fresh tosses is the closed-form fixed point of the moment recursion at τ = 1
//   (E p = p0; Var p from the linear map of E p²) and, at τ ≠ 1, the GTH state reduction
//   (Grassmann, Taksar & Heyman 1985: no subtraction, componentwise accurate) on the banded
//   transition matrix. The solves run within FACT_BUDGET multiply-adds (a note beyond it), and
//   their facts are given only where the moves the bands leave out cannot matter (RELIABLE):
//   not for an absorption time beyond some 1.7e6 generations, nor for a stationary law with a
//   bottleneck (two modes); a note says so. (There mc.predict's dense solves are no better: at
//   τ = 3, k = 100 it gives a negative mean absorption time.)
// * coin accumulate / accumulate-subsample / augment, categorical Gini–Simpson: the linear
//   recursions of E q_t and E q_t² (theory/moments.py, proportion_moments), the sum over tokens
//   by proportion_square_sum's two-category trick.
// * categorical support and rare_mass (theory/categorical.py): per-token alive probabilities,
//   from the same chain (mix), its backward pass (mix without fresh data) or the closed form
//   (accumulate), within LIVE_BUDGET (a note beyond it).
// * gaussian and gmm: E var_t and E (mean_t − μ₀)² by variance_moments (incl. two_part_moments)
//   for every policy and both estimators, with the scale λ; the stationary E var; under replace
//   the exact E log var_t band (digamma, trigamma), √E W2²_t (log-gamma) and E KL_t. The gmm
//   uses the mixture-variance identity (its total mean and variance follow the normal's MLE law).
// * weighted fits (real_weight w: the real part weighs w, the model's 1 − w) under mix without
//   carry-over and augment: the two-part recursions of E q_t, E q_t² (coin, Gini–Simpson) and of
//   E var_t, E (mean_t − μ₀)² (gaussian, gmm); elsewhere mc.predict's notes (NotCovered).
// * reward (E_model r, whenever a reward is set): r0 + (r1 − r0) E p_t for the coin, E_truth r
//   for the categorical (E q_t = q0), from E var_t and E (mean_t − μ₀)² for target:c and the
//   normal's log density; accept_rate: S/m or 1/K where fixed.
// * curation (theory/curation.py; the section "curation" below): the coin's chain with the
//   curator's kept law in place of the model group's binomial (best-of, verifier: a heads map;
//   top, bottom, reweight: a kept law that is not binomial), on the same bands, its hitting law,
//   reward and the verifier's E accept_rate_t (negative binomial, on its band), its absorption
//   facts (the banded solve, unfolded) or stationary law (GTH) within the page's budget, a note
//   beyond it or where the bands could matter; the categorical's large-N map q ← a q0 + b T(q) +
//   c q (verifier, best-of by the trapezoidal rule in log λ, reweight), labelled a limit; the
//   Gaussian verifier's exact E 1/var_t; and mc.predict's notes for everything else (the gmm,
//   top and bottom on the categorical, a curated weighted fit, ...).
//
// Binomial and hypergeometric masses are theory/binomial.py's (Loader 2000: Stirling errors and
// deviances, no cancellation), every 16th state of a band, with the exact ratio P(x + 1)/P(x)
// between (they agree with Loader's own values to about 3e-13, relatively, where Loader rounds
// most: the far tails). Log-gamma is the Cephes routine scipy uses, so both sides compute the
// same floating-point expressions there. Predictions are cached by the config's theory-relevant
// fields (seed and replicates do not enter); callers must not modify what predict returns.
// (`fractionCount` and `pieces` are shared with sim.js.)
(function () {
  "use strict";
  const root = typeof window !== "undefined" ? window : globalThis;
  const MCX = (root.MCX = root.MCX || {});
  const theory = (MCX.theory = MCX.theory || {});

  // -- limits: mc.predict's, then the page's own ---------------------------------------------

  // theory/prediction.py: the largest chain propagated, the multiply-adds allowed for chains,
  // the horizon over which a stationary level is sought.
  const CHAIN_MAX = 2000;
  const CHAIN_BUDGET = 1e9;
  const STATIONARY_HORIZON = 200000;
  // families/categorical.py's RARE_SHARE: rare_mass follows the rarest tokens holding 10%.
  const RARE_SHARE = 0.1;
  // Mass a band may leave out on each side of a law (see the header).
  const BAND_TAIL = 1e-17;
  // States at the ends of a law holding less than this are not propagated: a step leaves out at
  // most (k + 1)·1e-30 of probability (and no subnormal arithmetic slows the loop).
  const TINY = 1e-30;
  // With fresh tosses, when Σ_s P(H_s ∈ {0, k}) ≤ HIT_BOUND over the run, that union bound is
  // P(touched 0 or 1 by t) to within HIT_BOUND (it counts a second touch twice), and the chain
  // in which 0 and k absorb is not propagated.
  const HIT_BOUND = 1e-13;
  // The most probability a row of a transition matrix leaves out (three laws, two sides each),
  // and how likely the page lets a left-out move be to matter: a fact that needs the chain over
  // a long time (the absorption time, a stationary law) is given only if the chain it is
  // computed from and the full chain, run side by side, part before it is settled with
  // probability at most RELIABLE.
  const DROPPED = 6 * BAND_TAIL;
  const RELIABLE = 1e-10;
  // The page's budgets, in multiply-adds (1 to 3 ns each in V8): a linear solve for a coin fact
  // (the absorption time's up to k ≈ 1600 at τ = 1 and about 1100 at τ ≠ 1; the stationary law
  // at τ ≠ 1 up to k of about 500, depending on τ and the fresh share), and the categorical
  // per-token chains. Beyond them a note says what is not computed live.
  const FACT_BUDGET = 1.5e7;
  const LIVE_BUDGET = 6e7;
  // curation.py: candidates per kept unit after which the verifier stops redrawing; the largest
  // K of best-of and 1/q of top, bottom and reweight. rewards.py: the largest |reward|.
  const MAX_CANDIDATES = 64;
  const MAX_K = 1000;
  const MAX_REWARD = 1e6;
  // theory/curation.py: below this probability that a replicate ever exhausts the verifier's
  // budget the coin's verifier chain is exact; the trapezoidal rule of best-of's kept law (step
  // in log λ, from log λ = −30 to where e^{−λ w_min} is below e^{−60}).
  const SHORTFALL_TOLERANCE = 1e-9;
  const BEST_OF_STEP = 0.2;
  const BEST_OF_LOG_LOW = -30.0;
  const BEST_OF_DECAY = 60.0;
  // The page's budget for the categorical large-N map under curation, in multiply-adds (some
  // 3 ns each in V8): about 60 ms (V = 200, G = 200 under best-of). mc.predict computes beyond.
  const MAP_BUDGET = 2e7;

  // -- shared with sim.js ----------------------------------------------------------------------

  // ⌊fraction · n⌋, robust to decimal fractions binary floats cannot hold (policies.py's
  // fraction_count): a product within a relative 1e-9 of an integer rounds to it.
  function fractionCount(fraction, n) {
    const x = fraction * n;
    const nearest = Math.round(x);
    if (Math.abs(x - nearest) <= 1e-9 * Math.max(1, Math.abs(x))) return nearest;
    return Math.floor(x);
  }

  // How the policy assembles each training set of N (theory/assembly.py's pieces): the sizes of
  // its fresh (real), model (synthetic) and carried-over groups. For augment, real is the size
  // N of the fixed real set and synthetic ⌊λN⌋.
  function pieces(config) {
    const n = config.n;
    const a = config.real || 0;
    switch (config.policy) {
      case "replace":
        return { kind: "mix", real: 0, synthetic: n, carry: 0 };
      case "mix": {
        const real = fractionCount(a, n);
        if (config.synthetic === null || config.synthetic === undefined) {
          return { kind: "mix", real, synthetic: n - real, carry: 0 };
        }
        const synthetic = Math.min(fractionCount(config.synthetic, n), n - real);
        return { kind: "mix", real, synthetic, carry: n - real - synthetic };
      }
      case "accumulate":
      case "accumulate-subsample": {
        const real = fractionCount(a, n);
        return { kind: config.policy, real, synthetic: n - real, carry: 0 };
      }
      case "augment": {
        const ratio = config.synthetic === null || config.synthetic === undefined
          ? 1.0 : config.synthetic;
        return { kind: "augment", real: n, synthetic: fractionCount(ratio, n), carry: 0 };
      }
      default:
        throw new Error(`policy must be one of replace, mix, accumulate, ` +
                        `accumulate-subsample, augment (got ${String(config.policy)})`);
    }
  }

  // The internals predict calls, through this object so that a test can replace one (plant a
  // bug) and see its comparison with mc.predict fail. `clearCache()` after replacing one.
  const I = {};

  // -- formatting ------------------------------------------------------------------------------

  // The decimal digits of |x| rounded to `digits` significant ones as Python rounds them: to
  // nearest, ties to even, on the exact binary value (JS's toExponential breaks ties upwards).
  // Returns [digits as a string, decimal exponent]. A tie is seen in 30 more digits: a double
  // within 1e-30 (relatively) of a tie is the tie itself (doubles are 2e-16 apart).
  function roundDigits(x, digits) {
    const a = Math.abs(x);
    const [m, e] = a.toExponential(digits - 1).split("e");
    const long = a.toExponential(Math.min(100, digits + 29)).split("e");
    const all = long[0].replace(".", "");
    const rest = all.slice(digits);
    if (/^50*$/.test(rest) && Number(all[digits - 1]) % 2 === 0) {
      return [all.slice(0, digits), Number(long[1])];     // a tie, kept even: truncated
    }
    return [m.replace(".", ""), Number(e)];
  }

  // Python's format(x, ".{precision}g") (precision 6: format(x, "g")): `precision` significant
  // digits, trailing zeros dropped, scientific notation for exponents below −4 or from
  // `precision` on (labels and notes quote settings this way).
  function fmtG(x, precision = 6) {
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return Object.is(x, -0) ? "-0" : "0";
    const [digits, exp] = roundDigits(x, precision);
    const sign = x < 0 ? "-" : "";
    const strip = (s) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
    if (exp < -4 || exp >= precision) {
      const e = Math.abs(exp);
      const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      return `${sign}${strip(mantissa)}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
    }
    const fixed = exp >= 0
      ? `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
      : `0.${"0".repeat(-exp - 1)}${digits}`;
    return sign + strip(fixed);
  }

  // Python's format(x, ".0f") for x ≥ 0: the nearest integer, ties to even.
  function fmtRound(x) {
    const floor = Math.floor(x);
    const r = x - floor === 0.5 ? floor + (floor % 2) : Math.round(x);
    return String(r);
  }

  // -- binomial and hypergeometric masses (theory/binomial.py, Loader 2000) --------------------

  const LN_2PI = Math.log(2.0 * Math.PI);
  // δ(m) = log m! − log(√(2πm) (m/e)^m) for m = 0..15, from 40-digit decimals (binomial.py).
  const STIRLING = [0.0, 0.08106146679532726, 0.0413406959554093, 0.02767792568499834,
    0.020790672103765093, 0.016644691189821193, 0.013876128823070748, 0.01189670994589177,
    0.010411265261972096, 0.009255462182712733, 0.00833056343336287, 0.007573675487951841,
    0.00694284010720953, 0.006408994188004207, 0.0059513701127588475, 0.005554733551962801];
  const S0 = 1 / 12, S1 = 1 / 360, S2 = 1 / 1260, S3 = 1 / 1680, S4 = 1 / 1188;

  function stirlingError(m) {
    if (m <= 15) return STIRLING[m];
    const inv2 = 1.0 / (m * m);
    let series;
    if (m > 500) series = S0 - S1 * inv2;
    else if (m > 80) series = S0 - (S1 - S2 * inv2) * inv2;
    else if (m > 35) series = S0 - (S1 - (S2 - S3 * inv2) * inv2) * inv2;
    else series = S0 - (S1 - (S2 - (S3 - S4 * inv2) * inv2) * inv2) * inv2;
    return series / m;
  }

  // D(x, μ) = x log(x/μ) + μ − x, by a series in v = (x − μ)/(x + μ) near x = μ.
  function deviance(x, mean) {
    if (!(Math.abs(x - mean) < 0.1 * (x + mean))) {
      return (x > 0 ? x * Math.log(x / mean) : 0.0) + mean - x;
    }
    const v = (x - mean) / (x + mean);
    let total = (x - mean) * v;
    let term = 2.0 * x * v;
    const v2 = v * v;
    for (let j = 1; j < 40; j++) {
      term = term * v2;
      const step = term / (2 * j + 1);
      total = total + step;
      if (Math.abs(step) <= 1e-17 * Math.abs(total)) break;
    }
    return total;
  }

  // P(X = x), X ~ Binomial(n, p), for integers x and n ≥ 0.
  function binomialPmf(x, n, p) {
    const q = 1.0 - p;
    if (x < 0 || x > n) return 0.0;
    if (p === 0.0) return x === 0 ? 1.0 : 0.0;
    if (q === 0.0) return x === n ? 1.0 : 0.0;
    if (x === 0) {
      return Math.exp(p < 0.1 ? -deviance(n, n * q) - n * p : n * Math.log(q));
    }
    if (x === n) {
      return Math.exp(q < 0.1 ? -deviance(n, n * p) - n * q : n * Math.log(p));
    }
    const lc = stirlingError(n) - stirlingError(x) - stirlingError(n - x)
      - deviance(x, n * p) - deviance(n - x, n * q);
    const lf = LN_2PI + Math.log(x) + Math.log(n - x) - Math.log(n);
    return Math.exp(lc - 0.5 * lf);
  }

  // P(Y = y) for y good among `drawn` drawn without replacement from `total` holding `good`:
  // b(y; good, p) b(drawn − y; bad, p) / b(drawn; total, p) with p = drawn/total (Loader).
  function hypergeometricPmf(y, total, good, drawn) {
    const bad = total - good;
    if (y < Math.max(0, drawn - bad) || y > Math.min(drawn, good)) return 0.0;
    if (drawn === 0) return 1.0;
    const p = drawn / total;
    return binomialPmf(y, good, p) * binomialPmf(drawn - y, bad, p) / binomialPmf(drawn, total, p);
  }

  // A law on lo..hi kept on its band: { start, values } for start..start + length − 1. `pmf(x)`
  // gives a mass (Loader's), `up(x)` = P(x + 1)/P(x) and `down(x)` = P(x − 1)/P(x) exactly (the
  // ratios decrease outwards: both laws are log-concave). Walking out from the mode, each mass is
  // the last one times the ratio, re-anchored on pmf every ANCHOR states (a few rounding errors
  // from Loader's value); once past the mode the tail from x on is at most P(x)/(1 − ratio), and
  // a side is cut where that is below BAND_TAIL.
  const ANCHOR = 16;
  let bandBuffer = new Float64Array(64);
  function band(lo, hi, mode, pmf, up, down) {
    if (bandBuffer.length < 2 * (hi - lo) + 3) bandBuffer = new Float64Array(2 * (hi - lo) + 3);
    const buffer = bandBuffer;
    const centre = hi - lo + 1;          // buffer[centre + x − mode] holds P(x)
    buffer[centre] = pmf(mode);
    let top = mode, bottom = mode;
    let v = buffer[centre];
    let r = mode < hi ? up(mode) : 0.0;       // P(x)/P(x − 1) for the next x
    for (let x = mode + 1; x <= hi; x++) {
      v = (x - mode) % ANCHOR === 0 ? pmf(x) : v * r;
      r = x < hi ? up(x) : 0.0;
      if (r < 1 && v / (1 - r) <= BAND_TAIL) break;
      buffer[centre + x - mode] = v;
      top = x;
    }
    v = buffer[centre];
    r = mode > lo ? down(mode) : 0.0;
    for (let x = mode - 1; x >= lo; x--) {
      v = (mode - x) % ANCHOR === 0 ? pmf(x) : v * r;
      r = x > lo ? down(x) : 0.0;
      if (r < 1 && v / (1 - r) <= BAND_TAIL) break;
      buffer[centre + x - mode] = v;
      bottom = x;
    }
    return { start: bottom, values: buffer.slice(centre + bottom - mode, centre + top - mode + 1),
      whole: bottom === lo && top === hi };
  }

  const POINT = (at) => ({ start: at, values: Float64Array.of(1.0), whole: true });

  // Binomial(n, p) on its band.
  function binomialBand(n, p) {
    if (n === 0 || p === 0.0) return POINT(0);
    if (p === 1.0) return POINT(n);
    const q = 1.0 - p;
    const mode = Math.min(n, Math.max(0, Math.floor((n + 1) * p)));
    return band(0, n, mode, (x) => I.binomialPmf(x, n, p),
      (x) => (n - x) / (x + 1) * (p / q), (x) => x / (n - x + 1) * (q / p));
  }

  // Hypergeometric(total, good, drawn) on its band (the carried-over heads).
  function hypergeometricBand(total, good, drawn) {
    const bad = total - good;
    const lo = Math.max(0, drawn - bad);
    const hi = Math.min(drawn, good);
    if (drawn === 0 || lo === hi) return POINT(lo);
    const mode = Math.min(hi, Math.max(lo, Math.floor((drawn + 1) * (good + 1) / (total + 2))));
    return band(lo, hi, mode, (y) => I.hypergeometricPmf(y, total, good, drawn),
      (y) => (good - y) * (drawn - y) / ((y + 1) * (bad - drawn + y + 1)),
      (y) => y * (bad - drawn + y) / ((good - y + 1) * (drawn - y + 1)));
  }

  // Full convolution of two banded laws.
  function convolve(a, b) {
    const out = new Float64Array(a.values.length + b.values.length - 1);
    for (let i = 0; i < a.values.length; i++) {
      const w = a.values[i];
      for (let j = 0; j < b.values.length; j++) out[i + j] += w * b.values[j];
    }
    return { start: a.start + b.start, values: out, whole: a.whole && b.whole };
  }

  // The heads probability of a coin fitted at p and tossed at temperature τ (coin.py's
  // tempered_heads): the logistic of logit(p)/τ, 0 and 1 fixed.
  function temperedHeads(p, tau) {
    if (tau === 1.0 || !(p > 0.0 && p < 1.0)) return p;
    const logit = (Math.log(p) - Math.log1p(-p)) / tau;
    const e = Math.exp(-Math.abs(logit));
    return logit >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  }

  // -- the head-count chain --------------------------------------------------------------------

  // Rows R_i (i = 0..k) of the chain without its fresh tosses: the law of Y + Z given H = i,
  // Y ~ Bin(s, f(i/k)), Z ~ Hypergeom(k, i, c), packed in one array; and the same entries by
  // column (for chainStep). Cached: the rows do not depend on p0 (it enters through the fresh
  // tosses only) unless a curator's kept law does. With a `curation` (coinCuration) Y is the
  // curator's kept heads instead, `curation.law(f(i/k), s)`; then the rows also carry, for the
  // absorbing chain's facts, low[i] = P(Y + Z = 0) and high[i] = P(Y + Z = s + c) computed
  // from the laws' own edge masses (not from the bands). share[i] is E[Y]/s (the large-N map,
  // for `modes`), `dropped` the most probability a row's bands leave out, and `symmetric`
  // whether R_{k−i}(W − j) = R_i(j) (heads and tails swap roles), which chainStep exploits.
  const rowCache = new Map();
  function chainRows(k, s, c, tau, curation = null) {
    const key = `${k},${s},${c},${tau}` + (curation ? `,${curation.key}` : "");
    if (rowCache.has(key)) return rowCache.get(key);
    const width = s + c;
    const start = new Int32Array(k + 1);
    const length = new Int32Array(k + 1);
    const offset = new Int32Array(k + 2);
    const share = new Float64Array(k + 1);
    const low = curation ? new Float64Array(k + 1) : null;
    const high = curation ? new Float64Array(k + 1) : null;
    const parts = [];
    let whole = true;       // no row leaves anything out
    for (let i = 0; i <= k; i++) {
      const p = I.temperedHeads(i / k, tau);
      let model;
      if (!s) model = POINT(0);
      else if (curation) model = curation.law(p, s);
      else model = I.binomialBand(s, p);
      share[i] = curation && s ? model.share : p;
      const row = c ? convolve(model, I.carriedBand(k, i, c)) : model;
      whole = whole && row.whole !== false;
      start[i] = row.start;
      length[i] = row.values.length;
      offset[i + 1] = offset[i] + row.values.length;
      parts.push(row.values);
      if (curation) {
        const zero = s ? model.zero : 1.0, full = s ? model.full : 1.0;
        low[i] = zero * (c ? I.hypergeometricPmf(0, k, i, c) : 1.0);
        high[i] = full * (c ? I.hypergeometricPmf(c, k, i, c) : 1.0);
      }
    }
    const values = new Float64Array(offset[k + 1]);
    for (let i = 0; i <= k; i++) values.set(parts[i], offset[i]);
    // Column j holds rows colStart[j] .. colStart[j] + colLength[j] − 1 (zeros where a row's
    // band skips it), at colBase[j] + i.
    const top = new Int32Array(width + 1).fill(k + 1);
    const bottom = new Int32Array(width + 1).fill(-1);
    for (let i = 0; i <= k; i++) {
      for (let j = start[i]; j < start[i] + length[i]; j++) {
        if (i < top[j]) top[j] = i;
        if (i > bottom[j]) bottom[j] = i;
      }
    }
    const colStart = new Int32Array(width + 1);
    const colLength = new Int32Array(width + 1);
    const colBase = new Int32Array(width + 1);
    let total = 0;
    for (let j = 0; j <= width; j++) {
      colStart[j] = bottom[j] < 0 ? 0 : top[j];
      colLength[j] = bottom[j] < 0 ? 0 : bottom[j] - top[j] + 1;
      colBase[j] = total - colStart[j];
      total += colLength[j];
    }
    const columns = new Float64Array(total);
    for (let i = 0; i <= k; i++) {
      for (let j = start[i]; j < start[i] + length[i]; j++) {
        columns[colBase[j] + i] = values[offset[i] + j - start[i]];
      }
    }
    const rows = { k, width, start, length, offset, values, entries: offset[k + 1], whole,
      colStart, colLength, colBase, columns, key, share, low, high,
      symmetric: !curation || curation.symmetric,
      dropped: curation ? (curation.dropped + (c ? 2 : 0) + (k > s + c ? 2 : 0)) * BAND_TAIL
        : DROPPED };
    if (rowCache.size >= 6) rowCache.delete(rowCache.keys().next().value);
    rowCache.set(key, rows);
    return rows;
  }

  // Work space for chainStep.
  function chainScratch(rows) {
    return { sums: new Float64Array(rows.width + 1), reversed: new Float64Array(rows.k + 1) };
  }

  // One step of the chain: out = (Σ_i law_i R_i) ⊛ fresh. The sum is taken column by column, a
  // dot product per state with partial sums (about twice as fast in V8 as adding row by row),
  // and each column serves twice: R is symmetric, R_{k−i}(W − j) = R_i(j) with W = s + c (heads
  // and tails swap roles; f(1 − p) = 1 − f(p)), so column W − j is column j read against the
  // law reversed. With `absorbing`, states 0 and k keep their mass instead (the copy of the
  // chain in which touching 0 or 1 is final). States holding less than TINY are skipped.
  function chainStep(rows, fresh, law, out, scratch, absorbing) {
    const k = rows.k, width = rows.width;
    const { colStart, colLength, colBase, columns } = rows;
    const edges = [law[0], law[k]];
    if (absorbing) { law[0] = 0.0; law[k] = 0.0; }
    const reversed = scratch.reversed, sums = scratch.sums;
    let lo = 0, hi = k;
    while (lo <= k && law[lo] < TINY) lo++;
    while (hi >= 0 && law[hi] < TINY) hi--;
    if (!rows.symmetric) {
      // A curator that favours one side (best-of, the verifier, reweight): every column.
      for (let j = 0; j <= width; j++) {
        const first = Math.max(colStart[j], lo);
        const end = Math.min(colStart[j] + colLength[j], hi + 1);
        let o = colBase[j] + first;
        let s0 = 0.0, s1 = 0.0;
        let i = first;
        for (; i + 1 < end; i += 2, o += 2) {
          s0 += law[i] * columns[o];
          s1 += law[i + 1] * columns[o + 1];
        }
        if (i < end) s0 += law[i] * columns[o];
        sums[j] = s0 + s1;
      }
    } else {
      for (let i = 0; i <= k; i++) reversed[i] = law[k - i];
      [lo, hi] = [Math.min(lo, k - hi), Math.max(hi, k - lo)];
      const half = width >> 1;
      for (let j = 0; j <= half; j++) {
        const first = Math.max(colStart[j], lo);
        const end = Math.min(colStart[j] + colLength[j], hi + 1);
        let o = colBase[j] + first;
        let s0 = 0.0, s1 = 0.0, r0 = 0.0, r1 = 0.0;
        let i = first;
        for (; i + 1 < end; i += 2, o += 2) {
          const c0 = columns[o], c1 = columns[o + 1];
          s0 += law[i] * c0;
          s1 += law[i + 1] * c1;
          r0 += reversed[i] * c0;
          r1 += reversed[i + 1] * c1;
        }
        if (i < end) { s0 += law[i] * columns[o]; r0 += reversed[i] * columns[o]; }
        sums[j] = s0 + s1;
        if (width - j !== j) sums[width - j] = r0 + r1;
      }
    }
    if (absorbing) { law[0] = edges[0]; law[k] = edges[1]; }
    // ⊛ fresh, also as dot products: out[y] = Σ_f fresh[f] sums[y − f0 − f].
    const fv = fresh.values, f0 = fresh.start;
    if (fv.length === 1 && f0 === 0) {
      out.set(sums);
    } else {
      for (let y = 0; y <= k; y++) {
        const fFirst = Math.max(0, y - f0 - width), fEnd = Math.min(fv.length, y - f0 + 1);
        let s0 = 0.0, s1 = 0.0;
        let f = fFirst;
        for (; f + 1 < fEnd; f += 2) {
          s0 += fv[f] * sums[y - f0 - f];
          s1 += fv[f + 1] * sums[y - f0 - f - 1];
        }
        if (f < fEnd) s0 += fv[f] * sums[y - f0 - f];
        out[y] = s0 + s1;
      }
    }
    if (absorbing) {
      out[0] += edges[0];
      out[k] += edges[1];
    }
  }

  // The q-quantile of a law on `values` (prediction.py's _law_quantiles, one row): the first
  // value whose cumulative probability reaches q − 1e-12 (the first, if none does).
  function lawQuantile(law, values, q) {
    let cdf = 0.0;
    for (let j = 0; j < law.length; j++) {
      cdf += law[j];
      if (cdf >= q - 1e-12) return values[j];
    }
    return values[0];
  }

  // Binom(k, p0) on 0..k, every state (generation 1's law).
  function binomialLaw(k, p0) {
    const law = new Float64Array(k + 1);
    for (let j = 0; j <= k; j++) law[j] = I.binomialPmf(j, k, p0);
    return law;
  }

  // The law of p_t = H_t/k for t = 1..G under mix (coin_mix_law) reduced to what is drawn: E p_t,
  // the 5% and 95% quantiles, and P(H_s ∈ {0, k} for some 1 ≤ s ≤ t) (coin_hitting_cdf); with
  // a `curation` the curated chain, and with `perState` (a value per state) also
  // accept[t] = Σ_i P(H_{t−1} = i) perState[i] for t ≥ 2 (1 before: nothing is curated).
  function coinMixChain(p0, k, g, parts, tau, curation = null, perState = null) {
    const rows = I.chainRows(k, parts.synthetic, parts.carry, tau, curation);
    const accept = perState ? new Float64Array(g + 1).fill(1.0) : null;
    const fresh = parts.real ? I.binomialBand(parts.real, p0) : POINT(0);
    const p = new Float64Array(k + 1);
    for (let j = 0; j <= k; j++) p[j] = j / k;
    const mean = new Float64Array(g + 1);
    const lower = new Float64Array(g + 1);
    const upper = new Float64Array(g + 1);
    const cdf = new Float64Array(g + 1);
    mean[0] = lower[0] = upper[0] = p0;
    let law = binomialLaw(k, p0);
    let next = new Float64Array(k + 1);
    const scratch = chainScratch(rows);
    const degenerate = p0 === 0.0 || p0 === 1.0;
    const first = law.slice();
    let touched = 0.0;     // Σ_{s ≤ t} P(H_s ∈ {0, k}), the union bound on the first touch
    for (let t = 1; t <= g; t++) {
      let m = 0.0;
      for (let j = 0; j <= k; j++) m += law[j] * p[j];
      mean[t] = m;
      lower[t] = I.lawQuantile(law, p, 0.05);
      upper[t] = I.lawQuantile(law, p, 0.95);
      touched += law[0] + law[k];
      // Without fresh tosses 0 and k absorb: the chain's own mass there is the first touch.
      cdf[t] = parts.real === 0 ? law[0] + law[k] : touched;
      if (t === g) break;
      if (perState) {
        let a = 0.0;
        for (let j = 0; j <= k; j++) a += law[j] * perState[j];
        accept[t + 1] = a;
      }
      I.chainStep(rows, fresh, law, next, scratch, false);
      [law, next] = [next, law];
    }
    let mode = 0;
    for (let j = 1; j <= k; j++) if (law[j] > law[mode]) mode = j;
    if (degenerate) {
      cdf.fill(1.0);
    } else if (parts.real > 0 && touched > HIT_BOUND) {
      // Touching is not negligible: the copy of the chain in which 0 and k absorb.
      law = first;
      for (let t = 1; t <= g; t++) {
        cdf[t] = law[0] + law[k];
        if (t === g) break;
        I.chainStep(rows, fresh, law, next, scratch, true);
        [law, next] = [next, law];
      }
    }
    return { mean, lower, upper, cdf, mode, accept, rows };
  }

  // -- banded linear algebra for the coin's facts ----------------------------------------------

  // The envelope of a banded matrix whose row i spans columns starts[i]..ends[i]: for each row
  // r of first..last (renumbered from 0) its leftmost column left[r] and rightmost right[r],
  // clipped to first..last and made nondecreasing (taking the smallest left from r on and the
  // largest right up to r), so that elimination without pivoting fills nothing outside it.
  function envelope(starts, ends, first, last) {
    const size = last - first + 1;
    const left = new Int32Array(size);
    const right = new Int32Array(size);
    for (let r = 0; r < size; r++) {
      left[r] = Math.min(r, Math.max(starts[r + first], first) - first);
      right[r] = Math.max(r, Math.min(ends[r + first], last) - first);
    }
    for (let r = size - 2; r >= 0; r--) left[r] = Math.min(left[r], left[r + 1]);
    for (let r = 1; r < size; r++) right[r] = Math.max(right[r], right[r - 1]);
    let below = 0, above = 0, cost = 0;
    for (let r = 0, bottom = 0; r < size; r++) {
      below = Math.max(below, r - left[r]);
      above = Math.max(above, right[r] - r);
      while (bottom + 1 < size && left[bottom + 1] <= r) bottom++;
      cost += Math.max(bottom - r, 0) * (right[r] - r);
    }
    return { size, left, right, below, above, cost };
  }

  // Solves (I − Q) x = b for b ≥ 0, Q the transient block 1..k−1 of replace's chain (rows of
  // chainRows(k, k, 0, τ)): LU without pivoting inside the envelope, stored by band
  // (a[r·width + col − r + below]). I − Q is a nonsingular M-matrix, for which that is stable,
  // and it is done entrywise accurately (as GTH does for stationary laws): the one-step exit
  // probability e_i = Q_i0 + Q_ik is computed directly, each row's sum over the states left is
  // carried along (v_r ← v_r + |l| v_j: no cancellation) and each pivot is taken as that sum
  // plus the off-diagonal magnitudes, never as 1 − Q_ii. So E T stays accurate where I − Q is
  // nearly singular, as for τ > 1 (a coin held near ½, absorbed after some 1e16 generations),
  // where a pivoting LU (mc.predict's) loses every digit. With `folded`, for symmetric b only
  // (b_i = b_{k−i}): Q is centrosymmetric (Q_{k−i, k−j} = Q_ij), so x is symmetric too, and the
  // k/2 unknowns x_1..x_h solve the folded system Σ_{j ≤ h} (A_ij + A_{i,k−j}) x_j = b_i (the
  // second term once for the middle state j = k/2): I − Q of the lumped chain of |H − k/2|, an
  // M-matrix of the same bandwidth and row sums, for half the work. Returns solve(b) → x (all
  // k − 1 states), or null when the LU costs more than FACT_BUDGET. `exitOf(i)` is state i's
  // one-step exit probability P(H' ∈ {0, k} | H = i), from its laws' own edge masses.
  function transientSolver(rows, folded, exitOf) {
    const k = rows.k;
    const size = folded ? Math.floor(k / 2) : k - 1;     // unknowns: states 1..size
    const fold = (c) => (folded && c > size ? k - c : c);
    const first = (i) => Math.max(rows.start[i], 1);
    const last = (i) => Math.min(rows.start[i] + rows.length[i] - 1, k - 1);
    const starts = new Int32Array(k + 1).fill(k);
    const ends = new Int32Array(k + 1);
    for (let i = 1; i <= size; i++) {
      starts[i] = ends[i] = i;
      for (let c = first(i); c <= last(i); c++) {
        starts[i] = Math.min(starts[i], fold(c));
        ends[i] = Math.max(ends[i], fold(c));
      }
    }
    const env = envelope(starts, ends, 1, size);
    const { left, right, below, above } = env;
    if (env.cost > FACT_BUDGET) return null;
    const width = below + above + 1;
    const a = new Float64Array(size * width);    // off-diagonal entries, and the L factors
    const sums = new Float64Array(size);         // row sums over the states not eliminated
    for (let i = 1; i <= size; i++) {
      const base = (i - 1) * width - (i - 1) + below;
      const o = rows.offset[i] - rows.start[i];
      for (let c = first(i); c <= last(i); c++) {
        if (fold(c) !== i) a[base + fold(c) - 1] -= rows.values[o + c];
      }
      sums[i - 1] = exitOf(i);
    }
    for (let j = 0; j < size; j++) {
      const pivotBase = j * width - j + below;
      const end = right[j];
      let pivot = sums[j];
      for (let col = j + 1; col <= end; col++) pivot -= a[pivotBase + col];
      a[pivotBase + j] = pivot;
      for (let r = j + 1; r < size && left[r] <= j; r++) {
        const base = r * width - r + below;
        if (a[base + j] === 0) continue;
        const l = a[base + j] / pivot;          // ≤ 0
        a[base + j] = l;
        sums[r] -= l * sums[j];
        let col = j + 1;
        for (; col + 3 <= end; col += 4) {
          a[base + col] -= l * a[pivotBase + col];
          a[base + col + 1] -= l * a[pivotBase + col + 1];
          a[base + col + 2] -= l * a[pivotBase + col + 2];
          a[base + col + 3] -= l * a[pivotBase + col + 3];
        }
        for (; col <= end; col++) a[base + col] -= l * a[pivotBase + col];
        a[base + r] = 0.0;     // the diagonal is rebuilt from the row sum when r is the pivot
      }
    }
    return function solve(rhs) {
      const x = Float64Array.from(rhs.subarray(0, size));
      for (let r = 0; r < size; r++) {
        const base = r * width - r + below;
        let sum = x[r];
        for (let col = left[r]; col < r; col++) sum -= a[base + col] * x[col];
        x[r] = sum;
      }
      for (let r = size - 1; r >= 0; r--) {
        const base = r * width - r + below;
        let sum = x[r];
        for (let col = r + 1; col <= right[r]; col++) sum -= a[base + col] * x[col];
        x[r] = sum / a[base + r];
      }
      if (!folded) return x;
      const full = new Float64Array(k - 1);     // x_i at full[i − 1]
      for (let i = 1; i <= k - 1; i++) full[i - 1] = x[fold(i) - 1];
      return full;
    };
  }

  const solverCache = new Map();
  function cachedSolver(k, tau) {
    const key = `${k},${tau}`;
    if (!solverCache.has(key)) {
      if (solverCache.size >= 4) solverCache.delete(solverCache.keys().next().value);
      // At τ = 1 only symmetric right-hand sides are solved (E T, E T²): the folded system.
      const exitOf = (i) => {
        const p = I.temperedHeads(i / k, tau);
        return I.binomialPmf(0, k, p) + I.binomialPmf(k, k, p);
      };
      solverCache.set(key, I.transientSolver(I.chainRows(k, k, 0, tau), tau === 1.0, exitOf));
    }
    return solverCache.get(key);
  }

  // Replace's absorption time T (coin_absorption_time): E T = 1 + π·m and
  // E T² = 1 + 2π·m + π·s with (I − Q) m = 1, (I − Q) s = 2m − 1, π = Binom(1..k−1; k, p0);
  // and, at τ ≠ 1, P(p → 1) = P(H_1 = k) + π·b with (I − Q) b = Q[·, k]
  // (coin_fixation_probability_chain), Q[i, k] = f(i/k)^k. null beyond FACT_BUDGET. The banded
  // chain and the full one, coupled, part before absorption with probability at most
  // E T · DROPPED; where that exceeds RELIABLE (E T above some 1.7e6 generations, as when τ > 1
  // holds the coin near ½ for ages) { tooLong: E T } is returned instead.
  function coinAbsorptionFacts(p0, k, tau) {
    if (p0 <= 0.0 || p0 >= 1.0) return { mean: 0.0, variance: 0.0, fixation: p0 };
    const solve = cachedSolver(k, tau);
    if (solve === null) return null;
    const first = binomialLaw(k, p0);
    const pi = first.subarray(1, k);
    const m = solve(new Float64Array(k - 1).fill(1.0));
    const twice = new Float64Array(k - 1);
    for (let i = 0; i < k - 1; i++) twice[i] = 2.0 * m[i] - 1.0;
    const s = solve(twice);
    const dot = (u, v) => {
      let t = 0.0;
      for (let i = 0; i < u.length; i++) t += u[i] * v[i];
      return t;
    };
    const mean = 1.0 + dot(pi, m);
    if (mean * DROPPED > RELIABLE) return { tooLong: mean };
    const variance = 1.0 + 2.0 * dot(pi, m) + dot(pi, s) - mean * mean;
    let fixation = p0;
    if (tau !== 1.0) {
      const toTop = new Float64Array(k - 1);
      for (let i = 1; i <= k - 1; i++) {
        toTop[i - 1] = I.binomialPmf(k, k, I.temperedHeads(i / k, tau));
      }
      fixation = first[k] + dot(pi, solve(toTop));
    }
    return { mean, variance, fixation };
  }

  // The same facts of a curated chain without fresh tosses (replace, or mix with carry-over
  // only; coin_absorption_time and coin_fixation_probability_chain with the curator's law):
  // `rows` from chainRows with the curation, whose low/high give each state's exit and
  // Q[i, k] = high[i]; the fixation probability is P(H_1 = k) + π·b with (I − Q) b = Q[·, k]
  // (a curator moves it off p0). Not folded: a curator may favour one side. null beyond
  // FACT_BUDGET, { tooLong: E T } where the bands could matter (E T · rows.dropped > RELIABLE).
  function curatedAbsorptionFacts(p0, k, rows) {
    if (p0 <= 0.0 || p0 >= 1.0) return { mean: 0.0, variance: 0.0, fixation: p0 };
    if (rows.solver === undefined) {
      rows.solver = I.transientSolver(rows, false, (i) => rows.low[i] + rows.high[i]);
    }
    const solve = rows.solver;
    if (solve === null) return null;
    const first = binomialLaw(k, p0);
    const pi = first.subarray(1, k);
    const dot = (u, v) => {
      let t = 0.0;
      for (let i = 0; i < u.length; i++) t += u[i] * v[i];
      return t;
    };
    const m = solve(new Float64Array(k - 1).fill(1.0));
    const mean = 1.0 + dot(pi, m);
    if (mean * rows.dropped > RELIABLE) return { tooLong: mean };
    const twice = new Float64Array(k - 1);
    for (let i = 0; i < k - 1; i++) twice[i] = 2.0 * m[i] - 1.0;
    const s = solve(twice);
    const variance = 1.0 + 2.0 * dot(pi, m) + dot(pi, s) - mean * mean;
    const fixation = first[k] + dot(pi, solve(rows.high.subarray(1, k)));
    return { mean, variance, fixation };
  }

  // The stationary law of the mix chain with fresh tosses by GTH state reduction on its banded
  // matrix P_i = R_i ⊛ Bin(m, p0) (coin_mix_stationary solves the same law by least squares).
  // Eliminating state n from the chain censored on the states left, P[i][n] /= S_n with S_n the
  // probability of leaving n for them (a sum, not 1 − P[n][n]: no subtraction), then P[i][j] +=
  // P[i][n] P[n][j]; the law follows back from π(seed) = 1 by π(n) = Σ_i π(i) P[i][n]. The states
  // are eliminated from both ends towards `seed`, a state of large stationary mass: the bands
  // leave out moves of probability below 1e-17 (from H = 1 to 0, say, which needs every fresh
  // toss to be tails), so a far edge may have no way back within them, while every state keeps
  // a way towards the bulk. Fill-in stays within the band. Returns { mean, variance } of p; null
  // beyond FACT_BUDGET; false where the bands could matter (reachAll, and the flows below).
  const stationaryCache = new Map();
  function coinStationaryChain(p0, k, parts, tau, seed, curation = null) {
    const key = `${k},${parts.real},${parts.synthetic},${parts.carry},${tau},${p0}` +
      (curation ? `,${curation.key}` : "");
    if (!stationaryCache.has(key)) {
      if (stationaryCache.size >= 8) stationaryCache.delete(stationaryCache.keys().next().value);
      stationaryCache.set(key, gthStationary(p0, k, parts, tau, seed, curation));
    }
    return stationaryCache.get(key);
  }

  // Whether every state can reach `seed` by moves within the bands (row i moves to
  // starts[i]..ends[i]). If one cannot, the banded chain has another closed class (a second
  // mode that only left-out moves leave), whose share of the stationary law it cannot tell.
  function reachAll(starts, ends, seed) {
    const size = starts.length;
    const reach = new Uint8Array(size);
    reach[seed] = 1;
    const count = new Int32Array(size + 1);      // count[j] = reachers among 0..j − 1
    for (let changed = true; changed;) {
      changed = false;
      for (let j = 0; j < size; j++) count[j + 1] = count[j] + reach[j];
      for (let i = 0; i < size; i++) {
        if (!reach[i] && count[ends[i] + 1] > count[starts[i]]) { reach[i] = 1; changed = true; }
      }
    }
    return reach.every((r) => r === 1);
  }

  // The stable fixed points of the large-N map p ↦ (m p0 + s h(p) + c p)/k on the grid j/k (the
  // sign changes of map(p) − p from + to −; h = share, the model group's mean heads share: f(p)
  // uncurated, the kept law's mean with a curator): more than one, and the chain has as many
  // modes, with shares set by escape rates far below what the bands keep.
  function modes(p0, k, parts, share) {
    let count = 0, previous = 1;
    for (let j = 0; j <= k; j++) {
      const p = j / k;
      const gap = (parts.real * p0 + parts.synthetic * share[j] + parts.carry * p) / k - p;
      const sign = gap > 0 ? 1 : gap < 0 ? -1 : 0;
      if (previous > 0 && sign < 0) count++;
      if (sign !== 0) previous = sign;
    }
    return count;
  }

  function gthStationary(p0, k, parts, tau, seed, curation) {
    const rows = I.chainRows(k, parts.synthetic, parts.carry, tau, curation);
    const fresh = I.binomialBand(parts.real, p0);
    const fn = fresh.values.length;
    const starts = new Int32Array(k + 1);
    const ends = new Int32Array(k + 1);
    let cost = 0;
    for (let i = 0; i <= k; i++) {
      starts[i] = rows.start[i] + fresh.start;
      ends[i] = starts[i] + rows.length[i] + fn - 2;
      cost += rows.length[i] * fn;
    }
    // Where the bands keep every move the law is exact; else the checks below.
    const whole = rows.whole && fresh.whole !== false;
    if (!whole && !reachAll(starts, ends, seed)) return false;
    const { left, right, below, above } = envelope(starts, ends, 0, k);
    // Rows whose envelope holds column n: rowFrom[n]..rowTo[n] (left, right nondecreasing).
    const rowFrom = new Int32Array(k + 1), rowTo = new Int32Array(k + 1);
    for (let n = 0, i = 0; n <= k; n++) { while (right[i] < n) i++; rowFrom[n] = i; }
    for (let n = k, i = k; n >= 0; n--) { while (left[i] > n) i--; rowTo[n] = i; }
    // Eliminating n from the chain censored on from..to touches rows and columns of from..to
    // within the envelope (the fill stays inside it, the envelope being monotone).
    const span = (n, from, to) => [Math.max(from, rowFrom[n]), Math.min(to, rowTo[n]),
      Math.max(from, left[n]), Math.min(to, right[n])];
    const work = (n, from, to) => {
      const [i0, i1, j0, j1] = span(n, from, to);
      return Math.max(0, i1 - i0 + 1) * Math.max(0, j1 - j0 + 1);
    };
    for (let n = k; n > seed; n--) cost += work(n, 0, n - 1);
    for (let n = 0; n < seed; n++) cost += work(n, n + 1, seed);
    if (cost > FACT_BUDGET) return null;
    const width = below + above + 1;
    const a = new Float64Array((k + 1) * width);    // a[base(i) + j] = P[i][j]
    const base = (i) => i * width - i + below;
    for (let i = 0; i <= k; i++) {     // row i: R_i ⊛ fresh
      const o = base(i) + starts[i];
      for (let r = 0; r < rows.length[i]; r++) {
        const w = rows.values[rows.offset[i] + r];
        for (let f = 0; f < fn; f++) a[o + r + f] += w * fresh.values[f];
      }
    }
    const original = a.slice();
    const eliminate = (n, from, to) => {
      const i0 = Math.max(from, rowFrom[n]), i1 = Math.min(to, rowTo[n]);
      const j0 = Math.max(from, left[n]), j1 = Math.min(to, right[n]);
      const nBase = n * width - n + below;
      let total = 0.0;
      for (let j = j0; j <= j1; j++) total += a[nBase + j];
      if (!(total > 0)) return false;
      for (let i = i0; i <= i1; i++) {
        const iBase = i * width - i + below;
        const w = (a[iBase + n] /= total);
        if (w === 0) continue;
        for (let j = j0; j <= j1; j++) a[iBase + j] += w * a[nBase + j];
      }
      return true;
    };
    for (let n = k; n > seed; n--) if (!eliminate(n, 0, n - 1)) return false;
    for (let n = 0; n < seed; n++) if (!eliminate(n, n + 1, seed)) return false;
    // π(n) = Σ_i π(i) P[i][n] over the states left when n was eliminated, in reverse order.
    const law = new Float64Array(k + 1);
    law[seed] = 1.0;
    const restore = (n, from, to) => {
      const [i0, i1] = span(n, from, to);
      let v = 0.0;
      for (let i = i0; i <= i1; i++) v += law[i] * a[base(i) + n];
      law[n] = v;
    };
    for (let n = seed - 1; n >= 0; n--) restore(n, n + 1, seed);
    for (let n = seed + 1; n <= k; n++) restore(n, 0, n - 1);
    let sum = 0.0;
    for (let j = 0; j <= k; j++) sum += law[j];
    let mean = 0.0;
    for (let j = 0; j <= k; j++) { law[j] /= sum; mean += law[j] * (j / k); }
    let variance = 0.0;
    for (let j = 0; j <= k; j++) variance += law[j] * (j / k - mean) ** 2;
    // Stationary laws balance the flow across every cut {≤ j} | {> j}; a row's left-out moves
    // change it by at most DROPPED, so the law below the cut, of mass Π_j, moves by about
    // min(Π_j, 1 − Π_j) DROPPED / flow_j relatively. The fact is given where that, summed over
    // the cuts, is at most RELIABLE (not so at a bottleneck: two modes, say, at τ < 1).
    const flow = new Float64Array(k + 1);      // flow_j = Σ_{i ≤ j < l} π_i P[i][l]
    for (let i = 0; i <= k; i++) {
      let tail = 0.0;
      for (let j = right[i]; j > i; j--) {
        tail += original[base(i) + j];
        flow[j - 1] += law[i] * tail;
      }
    }
    let lower = 0.0, risk = 0.0;
    for (let j = 0; j < k; j++) {
      lower += law[j];
      const small = Math.min(lower, 1.0 - lower);
      if (small > 0) risk += small * rows.dropped / flow[j];
    }
    if (!whole && !(risk <= RELIABLE)) return false;
    // With several modes, one whose share underflowed (π = 0 somewhere) escapes the flow check.
    if (!whole && law.includes(0) && modes(p0, k, parts, rows.share) > 1) return false;
    return { mean, variance };
  }

  // Stationary E p, Var p at τ = 1: E p = p0, and E p² is the fixed point of the mix branch of
  // proportion_moments, b' = A + B b (the chain's stationary moments are the limit of its exact
  // moments), so Var p = A/(1 − B) − p0².
  function coinStationaryMoments(p0, k, parts) {
    const n = k;
    const m = parts.real, s = parts.synthetic, c = parts.carry;
    const xr = m * p0;
    const xr2 = m * (p0 - p0 * p0) + m * m * p0 * p0;
    const hyper = n > 1 ? c * (n - c) / (n - 1) : 0.0;
    const constant = xr2 + s * p0 + hyper * p0 + 2 * (xr * s * p0 + xr * c * p0);
    const slope = -s + s * s - hyper + c * c + 2 * s * c;
    const square = constant / (n * n - slope);
    return { mean: p0, variance: square - p0 * p0 };
  }

  // -- moment recursions (theory/moments.py) ---------------------------------------------------

  // Theory has no exact result for a combination of settings (moments.py's NotCovered): the
  // message says which, and the caller turns it into mc.predict's note.
  class NotCovered extends Error {}

  // A weighted fit's recursions hold where every training set is one real and one model part.
  function notCoveredWeighted(parts) {
    if ((parts.kind !== "mix" && parts.kind !== "augment") || parts.carry) {
      throw new NotCovered("a weighted fit's moments are exact under mix without carry-over and " +
        `under augment, not under ${parts.kind}` + (parts.carry ? " with carry-over" : ""));
    }
  }

  // Exact E q_t and E q_t² of each category's fitted frequency for every policy
  // (proportion_moments). q0: an array; returns { mean, square } as arrays of g + 1
  // Float64Arrays (one per generation, over the categories). With a weight w (`realWeight`)
  // the fit is q = W_r X/m + W_s Y/s (families/discrete.py's frequencies: W_r = w, W_s = 1 − w
  // when both parts are there), whose two-part recursion (mix without carry-over, augment) is
  // E q_t = W_r q0 + W_s E q_{t−1} and E q_t² = W_r² E(X/m)² + W_s² [(E q − E q²)/s + E q²]_{t−1}
  // + 2 W_r W_s C_{t−1}, C = q0 E q_{t−1} (fresh) or E[(X/N) q_{t−1}] (the fixed real set);
  // elsewhere it throws NotCovered (moments.py's words).
  function proportionMoments(q0, n, g, parts, realWeight = null) {
    const V = q0.length;
    const m = parts.real, s = parts.synthetic, c = parts.carry;
    if (realWeight !== null) notCoveredWeighted(parts);
    const mean = [];
    const square = [];
    const vec = (f) => {
      const out = new Float64Array(V);
      for (let v = 0; v < V; v++) out[v] = f(v);
      return out;
    };
    mean.push(Float64Array.from(q0));
    square.push(vec((v) => q0[v] ** 2));
    if (g === 0) return { mean, square };
    mean.push(Float64Array.from(q0));
    square.push(vec((v) => (n * q0[v] * (1 - q0[v]) + (n * q0[v]) ** 2) / n ** 2));
    const binomial = (size, pm, ps) => [size * pm, size * (pm - ps) + size ** 2 * ps];
    if (parts.kind === "augment" || realWeight !== null) {
      const fixed = parts.kind === "augment";
      const wr = realWeight === null ? m / (m + s) : (s === 0 ? 1.0 : (m === 0 ? 0.0 : realWeight));
      const ws = 1.0 - wr;
      const realSquare = fixed ? square[1]
        : vec((v) => (m ? q0[v] * (1 - q0[v]) / m + q0[v] ** 2 : q0[v] ** 2));
      let cross = square[1];   // augment: E[(X/N) q_1] = E (X/N)², since q_1 = X/N
      for (let t = 2; t <= g; t++) {
        const a = mean[t - 1], b = square[t - 1];
        const pair = fixed ? cross : vec((v) => q0[v] * a[v]);
        mean.push(vec((v) => wr * q0[v] + ws * a[v]));
        square.push(vec((v) => {
          const modelSquare = s ? (a[v] - b[v]) / s + b[v] : b[v];
          return wr ** 2 * realSquare[v] + ws ** 2 * modelSquare + 2 * wr * ws * pair[v];
        }));
        if (fixed) {
          const old = cross;
          cross = vec((v) => wr * realSquare[v] + ws * old[v]);
        }
      }
      return { mean, square };
    }
    if (parts.kind === "mix") {
      for (let t = 2; t <= g; t++) {
        const a = mean[t - 1], b = square[t - 1];
        const nm = new Float64Array(V), ns = new Float64Array(V);
        for (let v = 0; v < V; v++) {
          const [xr, xr2] = binomial(m, q0[v], q0[v] ** 2);
          const [ys, ys2] = binomial(s, a[v], b[v]);
          const zc = c * a[v];
          const zc2 = n > 1 ? c * (n - c) / (n - 1) * (a[v] - b[v]) + c * c * b[v] : c * c * b[v];
          const cross = 2 * (xr * ys + xr * zc) + 2 * s * c * b[v];
          nm[v] = (xr + ys + zc) / n;
          ns[v] = (xr2 + ys2 + zc2 + cross) / n ** 2;
        }
        mean.push(nm);
        square.push(ns);
      }
      return { mean, square };
    }
    if (parts.kind === "accumulate" || parts.kind === "accumulate-subsample") {
      let size = n;
      let h = vec((v) => n * mean[1][v]);
      let h2 = vec((v) => n * n * square[1][v]);
      let modelQ = mean[1], modelQ2 = square[1];
      let crossQH = vec((v) => h2[v] / n);
      for (let t = 2; t <= g; t++) {
        const next = size + n;
        const hNew = new Float64Array(V), h2New = new Float64Array(V);
        const q = new Float64Array(V), q2 = new Float64Array(V), qh = new Float64Array(V);
        for (let v = 0; v < V; v++) {
          const [xr, xr2] = binomial(m, q0[v], q0[v] ** 2);
          const [ys, ys2] = binomial(s, modelQ[v], modelQ2[v]);
          const ysH = s * crossQH[v];
          hNew[v] = h[v] + xr + ys;
          h2New[v] = h2[v] + xr2 + ys2 + 2 * (h[v] * xr + ysH + xr * ys);
          if (parts.kind === "accumulate") {
            q[v] = hNew[v] / next;
            q2[v] = h2New[v] / next ** 2;
          } else {
            q[v] = hNew[v] / next;
            const varPart = (n * (next - n) / (next - 1)) * (hNew[v] / next - h2New[v] / next ** 2);
            q2[v] = (varPart + n * n * h2New[v] / next ** 2) / n ** 2;
          }
          qh[v] = h2New[v] / next;
        }
        modelQ = q; modelQ2 = q2; crossQH = qh;
        mean.push(q);
        square.push(q2);
        h = hNew; h2 = h2New; size = next;
      }
      return { mean, square };
    }
    throw new Error(`unknown policy kind ${parts.kind}`);
  }

  // Σ_v E q_{t,v}² (proportion_square_sum): E q_t² = α_t q0 + β_t q0² for every category, so
  // the sum is α_t Σ q0 + β_t Σ q0², with α, β read off the categories q0 = 1 and ½.
  function proportionSquareSum(q0, n, g, parts, realWeight = null) {
    const { square } = I.proportionMoments([1.0, 0.5], n, g, parts, realWeight);
    let total = 0.0, dot = 0.0;
    for (let v = 0; v < q0.length; v++) { total += q0[v]; dot += q0[v] * q0[v]; }
    const out = new Float64Array(g + 1);
    for (let t = 0; t <= g; t++) {
      const alpha = 4.0 * square[t][1] - square[t][0];
      const beta = square[t][0] - alpha;
      out[t] = alpha * total + beta * dot;
    }
    return out;
  }

  // ``values`` with inf from its first non-finite entry on (an overflowing recursion).
  function saturate(values) {
    for (let t = 0; t < values.length; t++) {
      if (!Number.isFinite(values[t])) { values.fill(Infinity, t); break; }
    }
    return values;
  }

  // Exact E var_t and E (mean_t − μ₀)² of a normal (or GMM, by the mixture-variance identity)
  // refitted to its own data, every policy (variance_moments; the page has no --fit mean), the
  // weighted fit (`realWeight` w) under mix without carry-over and augment (NotCovered
  // elsewhere). Returns { meanVar, offset2 }.
  function varianceMoments(var0, n, g, parts, divisor, scale, realWeight = null) {
    const out = rawVarianceMoments(var0, n, g, parts, divisor, scale, realWeight);
    return { meanVar: saturate(out.meanVar), offset2: saturate(out.offset2) };
  }

  function rawVarianceMoments(var0, n, g, parts, divisor, scale, realWeight) {
    const m = parts.real, s = parts.synthetic, c = parts.carry;
    const scale2 = scale ** 2;
    if (realWeight !== null) notCoveredWeighted(parts);
    if (parts.kind === "augment" || (parts.kind === "mix" && c === 0)) {
      return I.twoPartMoments(var0, n, g, parts, divisor, scale, realWeight);
    }
    const div = (size) => (divisor === "mle" ? size : size - 1.0);
    const meanVar = new Float64Array(g + 1);
    const offset2 = new Float64Array(g + 1);
    meanVar[0] = var0;
    offset2[0] = 0.0;
    if (g === 0) return { meanVar, offset2 };
    let ss = (n - 1) * var0;
    meanVar[1] = ss / div(n);
    offset2[1] = var0 / n;
    if (parts.kind === "mix") {   // with carry-over
      for (let t = 2; t <= g; t++) {
        const v = scale2 * meanVar[t - 1], d = offset2[t - 1], ssPrev = ss;
        const between = n > 1 ? ssPrev / (n - 1) : 0.0;
        ss = Math.max(m - 1, 0) * var0 + Math.max(s - 1, 0) * v + Math.max(c - 1, 0) * between;
        const varMeans = [m ? var0 / m : 0.0, s ? v / s : 0.0, c ? between * (1 / c - 1 / n) : 0.0];
        const sizes = [m, s, c];
        let totalVar = 0, pooledVar = 0;
        for (let i = 0; i < 3; i++) totalVar += sizes[i] * varMeans[i];
        for (let i = 0; i < 3; i++) pooledVar += sizes[i] * sizes[i] * varMeans[i];
        pooledVar /= n;
        const kModel = s + c;
        ss += totalVar - pooledVar + (kModel - kModel ** 2 / n) * d;
        meanVar[t] = ss / div(n);
        offset2[t] = pooledVar / n + (kModel / n) ** 2 * d;
      }
      return { meanVar, offset2 };
    }
    if (parts.kind === "accumulate") {
      let size = n;
      for (let t = 2; t <= g; t++) {
        const v = scale2 * meanVar[t - 1], d = offset2[t - 1];
        const next = size + n;
        const groupsVar = (m ? var0 : 0.0) + (s ? v : 0.0);
        const pooledVar = ((m ? m * var0 : 0.0) + (s ? s * v : 0.0)) / next;
        ss = ss + Math.max(m - 1, 0) * var0 + Math.max(s - 1, 0) * v + groupsVar - pooledVar
          + (size + s - (size + s) ** 2 / next) * d;
        meanVar[t] = ss / div(next);
        offset2[t] = pooledVar / next + ((size + s) / next) ** 2 * d;
        size = next;
      }
      return { meanVar, offset2 };
    }
    if (parts.kind === "accumulate-subsample") {
      // State: the pool's E SS and E (mean_P − μ₀)², the model's, and E[(M − μ₀)(P − μ₀)].
      let size = n;
      let poolSS = ss, poolD = var0 / n, cross = var0 / n;
      for (let t = 2; t <= g; t++) {
        const v = scale2 * meanVar[t - 1], d = offset2[t - 1];
        const next = size + n;
        const groupsVar = (m ? var0 : 0.0) + (s ? v : 0.0);
        const pooledVar = ((m ? m * var0 : 0.0) + (s ? s * v : 0.0)) / next;
        const spread = size * poolD + s * d
          - (size ** 2 * poolD + 2 * size * s * cross + s ** 2 * d) / next;
        poolSS = poolSS + Math.max(m - 1, 0) * var0 + Math.max(s - 1, 0) * v + groupsVar
          - pooledVar + spread;
        poolD = (size ** 2 * poolD + 2 * size * s * cross + s ** 2 * d) / next ** 2
          + pooledVar / next;
        const trainSS = (n - 1) * poolSS / (next - 1);
        meanVar[t] = trainSS / div(n);
        offset2[t] = poolD + poolSS / (next - 1) * (1 / n - 1 / next);
        cross = poolD;
        size = next;
      }
      return { meanVar, offset2 };
    }
    throw new Error(`unknown policy kind ${parts.kind}`);
  }

  // Every training set a real and a model part (mix without carry-over, augment): the
  // recursion of variance_moments' notes (two_part_moments), pooled (W_r = m/(m + s)) or
  // weighted (W_r = w: gaussian.py's weighted_normal_fit, gmm/weighted.py's EM, whose total
  // moments are the weighted sample's): μ = W_r m_r + W_s m_s, v = W_r v_r + W_s v_s +
  // W_r W_s (m_r − m_s)².
  function twoPartMoments(var0, n, g, parts, divisor, scale, realWeight = null) {
    const fixed = parts.kind === "augment";
    const m = fixed ? n : parts.real;
    const s = parts.synthetic;
    const scale2 = scale ** 2;
    const wr = realWeight === null ? (m + s ? m / (m + s) : 1.0)
      : (s === 0 ? 1.0 : (m === 0 ? 0.0 : realWeight));
    const ws = 1.0 - wr;
    const size = m + s;
    const rescale = divisor === "unbiased" && size > 1 ? size / (size - 1.0) : 1.0;
    const meanVar = new Float64Array(g + 1);
    const offset2 = new Float64Array(g + 1);
    meanVar[0] = var0;
    offset2[0] = 0.0;
    if (g === 0) return { meanVar, offset2 };
    meanVar[1] = (n - 1) / n * var0 * (divisor === "unbiased" && n > 1 ? n / (n - 1.0) : 1.0);
    let centred = fixed ? 0.0 : var0 / n;
    offset2[1] = var0 / n;
    const realWithin = m ? (m - 1) / m * var0 : 0.0;
    const realSpread = fixed ? 0.0 : (m ? var0 / m : 0.0);
    for (let t = 2; t <= g; t++) {
      const v = scale2 * meanVar[t - 1];
      const modelSpread = s ? v / s : 0.0;
      const modelWithin = s ? (s - 1) / s * v : 0.0;
      const gap = realSpread + modelSpread + centred;
      const varMle = wr * realWithin + ws * modelWithin + wr * ws * gap;
      centred = wr ** 2 * realSpread + ws ** 2 * (centred + modelSpread);
      meanVar[t] = varMle * rescale;
      offset2[t] = centred + (fixed ? var0 / n : 0.0);
    }
    return { meanVar, offset2 };
  }

  // lim E var_t where it exists (prediction.py's _stationary_var): closed forms for MLE
  // accumulation and for mix without carry-over, else the recursion iterated until it settles.
  function stationaryVar(var0, n, parts, divisor, scale, realWeight = null) {
    const plain = scale === 1.0 && realWeight === null;
    if (parts.kind === "accumulate" && parts.real === 0 && divisor === "mle" && plain) {
      const x = Math.PI / Math.sqrt(n);     // gaussian_accumulate_limit_var
      return var0 * Math.sin(x) / x;
    }
    if (parts.real === 0) return null;
    if (parts.kind === "mix" && parts.carry === 0 && divisor === "mle" && plain) {
      const a = parts.real / n;             // gaussian_mix_stationary_var
      return a * (n * (2 - a) - 1) / (a * n * (2 - a) + 1 - a) * var0;
    }
    for (let horizon = 1000; horizon <= STATIONARY_HORIZON; horizon *= 4) {
      const values = I.varianceMoments(var0, n, horizon, parts, divisor, scale, realWeight)
        .meanVar;
      const last = values[horizon];
      if (!Number.isFinite(last)) return null;
      if (last < 1e-12 * var0) return null;
      if (Math.abs(last - values[horizon - 1]) <= 1e-12 * Math.abs(last)) return last;
    }
    return null;
  }

  // -- special functions -----------------------------------------------------------------------

  // log Γ(x) for x > 0: Cephes' lgam, as scipy.special.gammaln computes it.
  const LG_A = [8.11614167470508450300E-4, -5.95061904284301438324E-4,
    7.93650340457716943945E-4, -2.77777777730099687205E-3, 8.33333333333331927722E-2];
  const LG_B = [-1.37825152569120859100E3, -3.88016315134637840924E4,
    -3.31612992738871184744E5, -1.16237097492762307383E6, -1.72173700820839662146E6,
    -8.53555664245765465627E5];
  const LG_C = [-3.51815701436523470549E2, -1.70642106651881159223E4,
    -2.20528590553854454839E5, -1.13933444367982507207E6, -2.53252307177582951285E6,
    -2.01889141433532773231E6];
  const LS2PI = 0.91893853320467274178;
  // Cephes' polevl (coefficients from the highest power) and p1evl (a leading 1 left out).
  const horner = (x, coef, a) => {
    for (let i = 1; i < coef.length; i++) a = a * x + coef[i];
    return a;
  };
  const polevl = (x, coef) => horner(x, coef, coef[0]);
  const p1evl = (x, coef) => horner(x, coef, x + coef[0]);

  function lgamma(x) {
    if (x < 13.0) {
      let z = 1.0, p = 0.0, u = x;
      while (u >= 3.0) { p -= 1.0; u = x + p; z *= u; }
      while (u < 2.0) { z /= u; p += 1.0; u = x + p; }
      if (u === 2.0) return Math.log(z);
      p -= 2.0;
      const w = x + p;
      return Math.log(z) + w * polevl(w, LG_B) / p1evl(w, LG_C);
    }
    let q = (x - 0.5) * Math.log(x) - x + LS2PI;
    if (x > 1.0e8) return q;
    const p = 1.0 / (x * x);
    if (x >= 1000.0) {
      q += ((7.9365079365079365079365e-4 * p - 2.7777777777777777777778e-3) * p
        + 0.0833333333333333333333) / x;
    } else {
      q += polevl(p, LG_A) / x;
    }
    return q;
  }

  // ψ(x), x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 12, then the asymptotic series
  // ln x − 1/(2x) − Σ B_2j / (2j x^2j) (to x^−14, below 1e-17 there).
  function digamma(x) {
    let r = 0.0;
    while (x < 12) { r -= 1 / x; x += 1; }
    const f = 1 / (x * x);
    const t = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132
      - f * (691 / 32760 - f / 12))))));
    return r + Math.log(x) - 0.5 / x - t;
  }

  // ψ′(x), x > 0: ψ′(x) = ψ′(x + 1) + 1/x² up to x ≥ 12, then
  // 1/x + 1/(2x²) + Σ B_2j / x^(2j+1).
  function trigamma(x) {
    let r = 0.0;
    while (x < 12) { r += 1 / (x * x); x += 1; }
    const f = 1 / (x * x);
    const t = 1 / x + f / 2 + (f / x) * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f * (1 / 30
      - f * (5 / 66 - f * (691 / 2730 - f * 7 / 6))))));
    return r + t;
  }

  // -- predictions -----------------------------------------------------------------------------

  function curve(label, values, lower = null, upper = null, bandLabel = null) {
    return { label, values, lower, upper, bandLabel };
  }

  const chainAffordable = (states, generations, copies = 1) =>
    states <= CHAIN_MAX + 1 && copies * generations * states ** 2 <= CHAIN_BUDGET;

  // E p_t ± 2 sd p_t by moment recursion (_coin_moments), weighted or not.
  function coinMoments(p0, k, g, parts, out, realWeight = null) {
    const { mean, square } = I.proportionMoments([p0], k, g, parts, realWeight);
    const values = new Float64Array(g + 1), lower = new Float64Array(g + 1);
    const upper = new Float64Array(g + 1);
    for (let t = 0; t <= g; t++) {
      const mu = mean[t][0];
      const sd = Math.sqrt(Math.max(square[t][0] - mu * mu, 0.0));
      values[t] = mu;
      lower[t] = mu - 2 * sd;
      upper[t] = mu + 2 * sd;
    }
    out.curves.p = [curve("exact E p_t", values, lower, upper, "exact E p_t ± 2 sd")];
  }

  function coin(c, parts, isReplace, out) {
    const p0 = c.p0, k = c.n, g = c.generations, tau = c.temperature;
    if (c.real_weight !== null) {
      // A weighted p̂ is off the grid j/k: no chain, the two-part moment recursion only.
      if (tau !== 1.0) {
        out.notes.push("coin: with a weighted fit and a temperature, no exact result is known " +
          "(the tempered toss is not linear in p)");
        return;
      }
      try {
        coinMoments(p0, k, g, parts, out, c.real_weight);
      } catch (err) {
        if (!(err instanceof NotCovered)) throw err;
        out.notes.push(`coin: ${err.message}`);
      }
      out.notes.push("coin, weighted fit: p̂ is not on the grid j/k, so only E p_t and sd p_t " +
        "are exact (no chain)");
      return;
    }
    if (tau !== 1.0 && parts.kind !== "mix") {
      out.notes.push(`coin: at temperature ${fmtG(tau)} the exact chain covers replace and mix ` +
        `only; under ${parts.kind} the pool's composition is not a finite chain state`);
      return;
    }
    if (parts.kind === "mix") {
      let seed = Math.round(k * p0);     // the stationary law's bulk, for coinStationaryChain
      if (chainAffordable(k + 1, g)) {
        const law = I.coinMixChain(p0, k, g, parts, tau);
        out.curves.p = [curve("exact E p_t", law.mean, law.lower, law.upper,
          "exact 5–95% of p_t")];
        out.absorbed = { label: parts.real === 0 ? "exact P(absorbed by t)"
          : "exact P(p̂ has touched 0 or 1 by t)", values: law.cdf };
        seed = law.mode;
      } else if (tau === 1.0) {
        coinMoments(p0, k, g, parts, out);
        out.notes.push(`coin: the exact law of p_t needs a ${k + 1}-state chain over ${g} ` +
          `generations, more than this package propagates (k ≤ ${CHAIN_MAX}); E p_t and sd ` +
          "p_t are exact");
      } else {
        out.notes.push(`coin: at temperature ${fmtG(tau)} the exact law of p_t needs a ` +
          `${k + 1}-state chain over ${g} generations, more than this package propagates ` +
          `(k ≤ ${CHAIN_MAX})`);
      }
      const absorption = isReplace && k > 1 && k <= CHAIN_MAX;
      let facts = absorption ? I.coinAbsorptionFacts(p0, k, tau) : null;
      const what = "the absorption time's mean and sd" +
        (tau !== 1.0 ? " and the fixation probability" : "");
      if (absorption && facts === null) {
        out.notes.push(`coin: ${what} need a ${k - 1}-state linear solve beyond the page's live ` +
          "budget here; mc.predict gives them");
      } else if (facts && facts.tooLong) {
        out.notes.push(`coin: ${what} are not given here: absorption takes some ` +
          `${facts.tooLong.toPrecision(2)} generations, long enough for moves of probability ` +
          "below 1e-17 per generation, which the page's banded chain leaves out, to matter");
        facts = null;
      }
      if (tau === 1.0 && (isReplace || parts.real === 0)) {
        out.facts["fixation probability P(p → 1)"] = p0;
      } else if (facts !== null) {
        out.facts["fixation probability P(p → 1)"] = facts.fixation;
      }
      if (facts !== null) {
        out.facts["mean absorption time"] = facts.mean;
        out.facts["sd of absorption time"] = Math.sqrt(facts.variance);
        if (tau === 1.0) {
          const p = Math.min(Math.max(p0, 1e-300), 1);
          let entropy = 0;
          for (const v of [p, 1.0 - p]) if (v > 0) entropy += v * Math.log(v);
          out.facts["mean absorption time, diffusion approximation (not exact)"] =
            -2 * k * entropy;
        }
      }
      if (parts.real > 0 && k <= CHAIN_MAX) {
        const level = tau === 1.0 ? coinStationaryMoments(p0, k, parts)
          : (p0 === 0.0 || p0 === 1.0) ? { mean: p0, variance: 0.0 }
            : I.coinStationaryChain(p0, k, parts, tau, seed);
        if (!level) {
          out.notes.push(`coin: the stationary E p and Var p at temperature ${fmtG(tau)} ` +
            (level === null ? `need a ${k + 1}-state linear solve beyond the page's live ` +
              "budget here; mc.predict gives them" : "are not given here: the chain has a " +
              "bottleneck (two modes, say) so narrow that moves of probability below 1e-17 " +
              "per generation, which the page's banded chain leaves out, could shift the law " +
              "across it"));
        } else {
          out.facts["stationary E p"] = level.mean;
          out.facts["stationary Var p"] = level.variance;
        }
      }
      return;
    }
    coinMoments(p0, k, g, parts, out);
    if (parts.kind === "accumulate") {
      const touched = p0 ** k + (1 - p0) ** k;
      const values = new Float64Array(g + 1).fill(touched);
      values[0] = 0.0;
      out.absorbed = { label: "exact P(absorbed by t)", values };
      out.facts["P(ever absorbed)"] = touched;
    } else if (parts.kind === "augment") {
      out.notes.push("coin, augment: no exact law of the absorption time is computed (p̂ " +
        "touches 0 or 1 only when the real set's tosses all agree)");
    } else {
      out.notes.push("coin, accumulate-subsample: no exact law of the absorption time (the " +
        "fitted subsample forgets the pool's composition)");
    }
  }

  // q_v ∝ v^(−s), v = 1..V (families/categorical.py's zipf_probabilities).
  function zipf(vocab, exponent) {
    const q = new Float64Array(vocab);
    let total = 0.0;
    for (let v = 0; v < vocab; v++) { q[v] = (v + 1) ** -exponent; total += q[v]; }
    for (let v = 0; v < vocab; v++) q[v] /= total;
    return q;
  }

  // The truth's rarest tokens holding at most `share` of its mass, at least one
  // (families/discrete.py's rarest_tokens), as a mask.
  function rarestTokens(q, share) {
    const order = Array.from(q, (_, v) => v)
      .sort((u, v) => ((q[u] > 0 ? q[u] : Infinity) - (q[v] > 0 ? q[v] : Infinity)) || (u - v));
    const mask = new Uint8Array(q.length);
    let cumulative = 0.0, count = 0;
    for (const v of order) {
      cumulative += q[v] > 0 ? q[v] : 0.0;
      if (cumulative <= share * (1 + 1e-12)) count += 1;
      else break;
    }
    count = Math.max(1, count);
    for (let i = 0; i < count; i++) mask[order[i]] = 1;
    return mask;
  }

  // Σ_v W[v, j] P(token v alive at t), t = 0..G, for each weighting W[·, j]
  // (categorical_alive_sums). Returns an array of Float64Array(g + 1), or null when the
  // per-token chains would cost more than LIVE_BUDGET (`cost` receives the estimate).
  function aliveSums(q, n, g, parts, weights) {
    const V = q.length, J = weights.length;
    const out = weights.map(() => new Float64Array(g + 1));
    for (let j = 0; j < J; j++) {
      for (let v = 0; v < V; v++) if (q[v] > 0) out[j][0] += weights[j][v];
    }
    if (g === 0) return out;
    if (parts.kind === "accumulate") {
      // A token never leaves the pool, and only fresh draws can add one it lacks:
      // P(gone at t) = (1 − q_v)^(N + (t − 1) m).
      for (let v = 0; v < V; v++) {
        const log = Math.log1p(-Math.min(q[v], 1.0));
        for (let t = 1; t <= g; t++) {
          const alive = 1.0 - Math.exp((n + parts.real * (t - 1)) * log);
          for (let j = 0; j < J; j++) out[j][t] += alive * weights[j][v];
        }
      }
      return out;
    }
    const rows = I.chainRows(n, parts.synthetic, parts.carry, 1.0);
    if (parts.real === 0) {
      // Σ_v W_v P(H_t > 0) = Σ_i B_i a_t(i): B_i = Σ_v W_v Binom(i; N, q_v), a_t(i) =
      // P(H_t > 0 | H_1 = i) by the backward pass a ← R a.
      if (g * rows.entries > LIVE_BUDGET) return null;
      const drawn = weights.map(() => new Float64Array(n + 1));
      for (let v = 0; v < V; v++) {
        const b = I.binomialBand(n, q[v]);
        for (let j = 0; j < J; j++) {
          const w = weights[j][v];
          for (let x = 0; x < b.values.length; x++) drawn[j][b.start + x] += w * b.values[x];
        }
      }
      let alive = new Float64Array(n + 1).fill(1.0);
      alive[0] = 0.0;
      let next = new Float64Array(n + 1);
      for (let t = 1; t <= g; t++) {
        for (let j = 0; j < J; j++) {
          let s = 0.0;
          for (let i = 0; i <= n; i++) s += alive[i] * drawn[j][i];
          out[j][t] = s;
        }
        if (t === g) break;
        for (let i = 0; i <= n; i++) {
          const o = rows.offset[i] - rows.start[i];
          let s = 0.0;
          for (let x = rows.start[i]; x < rows.start[i] + rows.length[i]; x++) {
            s += rows.values[o + x] * alive[x];
          }
          next[i] = s;
        }
        [alive, next] = [next, alive];
      }
      return out;
    }
    // With fresh data: one chain per distinct probability, P(alive) = 1 − P(H_t = 0).
    const distinct = Array.from(new Set(q)).sort((u, v) => u - v);
    const perStep = rows.entries + (n + 1) * (parts.real + 1);
    if (distinct.length * g * perStep > LIVE_BUDGET) return null;
    const index = new Map(distinct.map((value, i) => [value, i]));
    const grouped = distinct.map(() => new Float64Array(J));   // the weights of each value
    for (let v = 0; v < V; v++) {
      for (let j = 0; j < J; j++) grouped[index.get(q[v])][j] += weights[j][v];
    }
    const scratch = chainScratch(rows);
    distinct.forEach((value, i) => {
      const fresh = I.binomialBand(parts.real, value);
      let law = binomialLaw(n, value);
      let next = new Float64Array(n + 1);
      for (let t = 1; t <= g; t++) {
        for (let j = 0; j < J; j++) out[j][t] += (1.0 - law[0]) * grouped[i][j];
        if (t === g) break;
        I.chainStep(rows, fresh, law, next, scratch, false);
        [law, next] = [next, law];
      }
    });
    return out;
  }

  function categorical(c, parts, isReplace, out) {
    const q = zipf(c.vocab, c.zipf);
    const n = c.n, g = c.generations;
    if (c.temperature !== 1.0) {
      categoricalTempered(c, parts, q, out);
      return;
    }
    let square;
    try {
      square = I.proportionSquareSum(q, n, g, parts, c.real_weight);
    } catch (err) {
      if (!(err instanceof NotCovered)) throw err;
      out.notes.push(`categorical: ${err.message}; entropy, support, tv, gini_simpson and ` +
        "rare_mass are not drawn");
      return;
    }
    out.curves.gini_simpson = [curve("exact E Gini–Simpson", square.map((x) => 1.0 - x))];
    if (c.real_weight !== null || parts.kind === "augment") {
      out.notes.push("categorical: with a weighted fit or a fixed real set, only Gini–Simpson " +
        "is exact; entropy, support, tv and rare_mass have no closed form");
      return;
    }
    const copies = parts.real === 0 || parts.kind !== "mix" ? 1 : new Set(q).size;
    const affordable = parts.kind === "mix" && chainAffordable(n + 1, g, copies);
    if (parts.kind === "accumulate" || affordable) {
      const rare = rarestTokens(q, RARE_SHARE);
      const weight = new Float64Array(q.length);
      let total = 0.0;
      for (let v = 0; v < q.length; v++) if (rare[v]) { weight[v] = q[v]; total += q[v]; }
      for (let v = 0; v < q.length; v++) weight[v] /= total;
      const sums = I.aliveSums(q, n, g, parts, [new Float64Array(q.length).fill(1.0), weight]);
      if (sums === null) {
        out.notes.push(`categorical: exact E support_t and E rare_mass_t need ${copies} ` +
          `chain(s) of ${n + 1} states over ${g} generations, beyond the page's live budget ` +
          "here; mc.predict gives them");
      } else {
        out.curves.support = [curve("exact E support_t", sums[0])];
        out.curves.rare_mass = [curve("exact E rare_mass_t", sums[1])];
      }
    } else if (parts.kind === "mix") {
      out.notes.push(`categorical: exact E support_t and E rare_mass_t need ${copies} ` +
        `chain(s) of ${n + 1} states over ${g} generations, beyond this package's budget`);
    } else {
      out.notes.push("categorical, accumulate-subsample: E support_t and E rare_mass_t have no " +
        "closed form");
    }
    out.notes.push("categorical: entropy and tv have no closed form");
    if (isReplace) {
      out.facts["P(token 1 is the last survivor)"] = q[0];
      out.facts["Gini–Simpson decay per generation"] = 1.0 - 1.0 / n;
    }
  }

  // The large-N limit at temperature τ (_categorical_tempered): q ← a q0 + (1 − a)
  // normalise(q^(1/τ)) under replace and mix without carry-over, drawn for entropy as a limit.
  function categoricalTempered(c, parts, q0, out) {
    if (parts.kind !== "mix" || parts.carry || c.real_weight !== null) {
      out.notes.push("categorical: at a temperature ≠ 1 no exact result is known (entropy, " +
        "support, tv, gini_simpson, rare_mass); the large-N map is drawn only under replace " +
        "and mix without carry-over");
      return;
    }
    const g = c.generations, tau = c.temperature;
    const a = parts.real / c.n;
    let q = Float64Array.from(q0);
    const entropy = new Float64Array(g + 1);
    for (let t = 0; t <= g; t++) {
      let h = 0.0;
      for (let v = 0; v < q.length; v++) if (q[v] > 0) h += q[v] * Math.log(q[v]);
      entropy[t] = 0.0 - h;
      if (t === 0) continue;     // generation 1 is fitted to the truth's own samples: q_1 → q0
      if (t < g) {
        // Over the tokens alive only (a dead token's log is −inf).
        let top = -Infinity;
        for (let v = 0; v < q.length; v++) if (q[v] > 0) top = Math.max(top, Math.log(q[v]));
        const tempered = new Float64Array(q.length);
        let total = 0.0;
        for (let v = 0; v < q.length; v++) {
          if (q[v] > 0) {
            tempered[v] = Math.exp((Math.log(q[v]) - top) / tau);
            total += tempered[v];
          }
        }
        const next = new Float64Array(q.length);
        for (let v = 0; v < q.length; v++) next[v] = a * q0[v] + (1 - a) * tempered[v] / total;
        q = next;
      }
    }
    out.curves.entropy = [curve(`large-N limit of entropy at τ = ${fmtG(tau)} (not exact at ` +
      "finite N)", entropy)];
    out.notes.push("categorical: at a temperature ≠ 1 support, tv, rare_mass and Gini–Simpson " +
      "have no exact result; entropy is drawn in the large-N limit");
  }

  // var and mean curves and the stationary facts (_continuous); returns E (mean_t − μ₀)².
  // (null where a weighted fit's moments are not covered: a note says so).
  function continuous(c, parts, out, name, var0, mean0, divisor) {
    const n = c.n, g = c.generations;
    let moments;
    try {
      moments = I.varianceMoments(var0, n, g, parts, divisor, c.scale, c.real_weight);
    } catch (err) {
      if (!(err instanceof NotCovered)) throw err;
      out.notes.push(`${name}: ${err.message}; var and mean are not drawn`);
      return null;
    }
    const { meanVar, offset2 } = moments;
    out.curves.var = [curve(name === "gmm" ? "exact E var_t (mixture-variance identity)"
      : "exact E var_t", meanVar)];
    const lower = new Float64Array(g + 1), upper = new Float64Array(g + 1);
    for (let t = 0; t <= g; t++) {
      const sd = Math.sqrt(offset2[t]);
      lower[t] = mean0 - 2 * sd;
      upper[t] = mean0 + 2 * sd;
    }
    out.curves.mean = [curve("exact E mean_t", new Float64Array(g + 1).fill(mean0), lower, upper,
      "exact E mean_t ± 2 sd")];
    if (parts.kind === "augment") {
      out.notes.push(`${name}, augment: E mean_t is the truth's, but each replicate's mean ` +
        "relaxes to its own real set's mean, not the truth's; the band holds that spread " +
        "(var0 / N) and the drift about it");
    }
    const level = stationaryVar(var0, n, parts, divisor, c.scale, c.real_weight);
    if (level !== null) {
      out.facts["stationary E var"] = level;
      out.facts["stationary E var / truth's"] = level / var0;
    }
    return offset2;
  }

  // Under replace (_gaussian_replace): the typical path exp E log var_t with its log-normal
  // band, √E W2²_t and E KL_t; the collapse-time law is not computed here.
  function gaussianReplace(c, isReplace, out) {
    const n = c.n, g = c.generations, var0 = c.std ** 2;
    if (!isReplace) {
      out.notes.push("gaussian: w2, kl and tail_mass have exact results only under replace" +
        (out.curves.mean ? "; var and mean are exact under this policy" : ""));
      return;
    }
    const d = c.estimator === "mle" ? n : n - 1;
    const step = n > 1 ? I.digamma((n - 1) / 2) + Math.log(2 / d) : -Infinity;
    if (n > 1) {
      const trig = I.trigamma((n - 1) / 2);
      const values = new Float64Array(g + 1), lower = new Float64Array(g + 1);
      const upper = new Float64Array(g + 1);
      for (let t = 0; t <= g; t++) {
        const logMean = Math.log(var0) + t * step;
        const logSd = Math.sqrt(t * trig);
        values[t] = Math.exp(logMean);
        lower[t] = Math.exp(logMean - 1.645 * logSd);
        upper[t] = Math.exp(logMean + 1.645 * logSd);
      }
      out.curves.var.push(curve("exact exp E log var_t (typical path)", values, lower, upper,
        "≈ 5–95%: log-normal with the exact mean and sd of log var_t"));
    }
    // E W2²_t = Var mean_t + E var_t + var0 − 2 sd0 E sd_t (gaussian_expected_w2_squared).
    const r = (n - 1) / d;
    const logC = n > 1 ? 0.5 * Math.log(2 / d) + I.lgamma(n / 2) - I.lgamma((n - 1) / 2) : 0;
    const w2 = new Float64Array(g + 1);
    for (let t = 0; t <= g; t++) {
      const varMean = d === n ? var0 * (1 - ((n - 1) / n) ** t) : var0 * t / n;
      const sdT = n === 1 ? (t === 0 ? Math.sqrt(var0) : 0.0)
        : Math.sqrt(var0) * Math.exp(t * logC);
      const value = varMean + var0 * r ** t + var0 - 2 * Math.sqrt(var0) * sdT;
      w2[t] = Math.sqrt(Math.max(value, 0.0));
    }
    out.curves.w2 = [curve("exact √E W2²_t", w2)];
    if (n > 3) {
      // E KL_t = ½ (E log(var_t/var0) + e^t + W_t − 1), e = D/(N − 3), W_t = Σ_{j≤t} e^j / N.
      const e = d / (n - 3);
      const kl = new Float64Array(g + 1);
      for (let t = 0; t <= g; t++) {
        const powers = e ** t;
        const w = (e !== 1 ? e * (powers - 1) / (e - 1) : t) / n;
        const logRatio = (Math.log(var0) + t * step) - Math.log(var0);
        kl[t] = 0.5 * (logRatio + powers + w - 1.0);
      }
      out.curves.kl = [curve("exact E KL_t", kl)];
    } else {
      out.notes.push("gaussian: E KL_t is infinite for N ≤ 3");
    }
    out.notes.push("gaussian: tail_mass has no closed form");
    out.notes.push("gaussian: the collapse-time law P(collapsed by t) and its facts are not " +
      "computed in the page (mc.predict gives them for runs of up to 5000 generations)");
    out.facts["E log var per generation"] = n > 1 ? 0.0 + step : -Infinity;
  }

  // Returns E (mean_t − μ₀)² (for the reward), or null.
  function gaussianFamily(c, parts, isReplace, out) {
    const offset2 = continuous(c, parts, out, "gaussian", c.std ** 2, c.mean, c.estimator);
    if (c.scale === 1.0) {
      gaussianReplace(c, isReplace, out);
    } else {
      out.notes.push("gaussian: with a sampling scale, w2, kl, tail_mass and the collapse-time " +
        "law have no exact result here; var and mean do");
    }
    return offset2;
  }

  function gmm(c, parts, out) {
    let mean0 = 0.0, second = 0.0;
    for (let i = 0; i < c.means.length; i++) {
      mean0 += c.weights[i] * c.means[i];
      second += c.weights[i] * (c.stds[i] ** 2 + c.means[i] ** 2);
    }
    let offset2 = null;
    if (c.scale !== 1.0) {
      out.notes.push("gmm: with a sampling scale the sampled mixture's variance depends on how " +
        "it splits into within- and between-component parts, so no exact result is known; " +
        "none is drawn");
    } else {
      offset2 = continuous(c, parts, out, "gmm", second - mean0 ** 2, mean0, "mle");
    }
    out.notes.push("gmm: w2, kl, tail_mass and each component's mean, std and weight have no " +
      "closed form; only the mixture's total mean and variance do (the mixture-variance " +
      "identity)");
    return offset2;
  }

  // -- curation: the coin's kept laws (theory/curation.py) -----------------------------------
  //
  // A curator changes only the law of the model's group of a training set (fresh and carried-
  // over tosses never are curated, nor is training set 1), so the curated coin is the same
  // (k + 1)-state chain with Y, the model group's heads, drawn from the curator's kept law at
  // the model's toss probability p̃ = f(H/k) (after the temperature):
  //   best-of K, rewards (r0, r1): independent tosses, heads with probability
  //     g(p̃) = Σ_j Bin(j; K, p̃) j e^{r1} / (j e^{r1} + (K − j) e^{r0}) (Bradley–Terry over the K);
  //   verifier, a_x = ε + (1 − ε)(q_x / max q)^s for the truth q = (1 − p0, p0): independent
  //     tosses of g(p̃) = p̃ a1 / (p̃ a1 + (1 − p̃) a0), exactly unless a replicate exhausts its
  //     budget of 64·S candidates (P(Bin(64 S, α) < S) for the acceptance rate α, bounded over
  //     the run by coinShortfallBound; beyond 1e-9 no chain is given);
  //   top / bottom, m = ⌈S/q⌉ candidates, J ~ Bin(m, p̃) heads: the favoured side (the likelier
  //     for top) fills the S kept first, min(F, S) of F ~ Bin(m, p̃_F); at p̃ = ½ Bin(S, ½);
  //   reweight, weights (q_x/p̃_x)^β: given J, Bin(S, π_J) heads, π_J = J w1/(J w1 + (m − J) w0).
  // Each kept law is a band (start, values) like the binomial ones, with its exact edge masses
  // P(Y = 0), P(Y = S) (for the absorbing chain's exits) and its mean share E[Y]/S.

  // m = ⌈S/q⌉ candidates (at most MAX_K · S), as curation.py draws them.
  function candidates(s, keep) {
    return Math.min(Math.ceil(s / keep - 1e-9), MAX_K * s);
  }

  // A kept law on start..start + length − 1 of 0..s, with its edge masses and mean share.
  function keptLaw(start, values, whole, s, zero, full) {
    let mean = 0.0;
    for (let x = 0; x < values.length; x++) mean += (start + x) * values[x];
    return { start, values, whole, zero, full, share: mean / s };
  }

  // Bin(s, p) heads, as a kept law (independent kept tosses).
  function binomialKept(s, p) {
    const b = I.binomialBand(s, p);
    return keptLaw(b.start, b.values, b.whole, s, I.binomialPmf(0, s, p), I.binomialPmf(s, s, p));
  }

  // Best-of K's chance of keeping heads given j heads among its K candidates,
  // j e^{r1} / (j e^{r1} + (K − j) e^{r0}), taken as 1/(1 + ((K − j)/j) e^{r0 − r1}) so that a
  // reward gap beyond the float range gives its limits (coin_best_of_heads).
  function bestOfKept(K, r0, r1) {
    const kept = new Float64Array(K + 1);
    kept[K] = 1.0;
    const e = Math.exp(r0 - r1);
    for (let j = 1; j < K; j++) kept[j] = 1.0 / (1.0 + (K - j) / j * e);
    return kept;
  }

  // (a0, a1): the verifier's acceptance of tails and heads (coin_verifier_acceptance).
  function verifierAcceptance(p0, strictness, falseAccept) {
    const q = [1.0 - p0, p0];
    const top = Math.max(q[0], q[1]);
    return q.map((v) => falseAccept +
      (1.0 - falseAccept) * (v > 0 ? (v / top) ** strictness : 0.0));
  }

  // Top's (`likely`) or bottom's kept heads among S of m = ⌈S/q⌉ tosses of p
  // (coin_filter_kept_law).
  function filterKeptLaw(p, s, keep, likely) {
    const m = I.candidates(s, keep);
    if (m === s || p === 0.5 || p <= 0.0 || p >= 1.0) return binomialKept(s, p);
    const headsFavoured = (p > 0.5) === likely;
    const fav = I.binomialBand(m, headsFavoured ? p : 1.0 - p);
    const end = fav.start + fav.values.length - 1;
    const lo = Math.min(fav.start, s), hi = Math.min(end, s);
    const values = new Float64Array(hi - lo + 1);
    for (let j = lo; j < hi; j++) values[j - lo] = fav.values[j - fav.start];
    if (hi === s) {       // the favoured side fills every slot: Σ_{x ≥ s} P(F = x)
      let tail = 0.0;
      for (let x = Math.max(s, fav.start); x <= end; x++) tail += fav.values[x - fav.start];
      values[hi - lo] = tail;
    } else {
      values[hi - lo] = fav.values[hi - fav.start];
    }
    if (headsFavoured) {
      return keptLaw(lo, values, fav.whole, s, lo === 0 ? values[0] : 0.0,
        hi === s ? values[hi - lo] : 0.0);
    }
    values.reverse();      // the count of the favoured side was tails
    return keptLaw(s - hi, values, fav.whole, s, hi === s ? values[0] : 0.0,
      lo === 0 ? values[values.length - 1] : 0.0);
  }

  // Reweight's kept heads among S drawn with replacement from m = ⌈S/q⌉ tosses of p, weights
  // w1 = (p0/p)^β, w0 = ((1 − p0)/(1 − p))^β (coin_reweight_kept_law): the mixture over
  // J ~ Bin(m, p) of Bin(S, π_J), each on its band, summed in full and cut to the band where a
  // side's tail holds at most BAND_TAIL.
  function reweightKeptLaw(p, p0, s, keep, power) {
    const m = I.candidates(s, keep);
    if (p <= 0.0 || p >= 1.0) return binomialKept(s, p);
    let score1 = p0 > 0 ? power * (Math.log(p0) - Math.log(p)) : -Infinity;
    let score0 = p0 < 1 ? power * (Math.log1p(-p0) - Math.log1p(-p)) : -Infinity;
    if (power === 0.0) score0 = score1 = 0.0;
    const dead1 = score1 === -Infinity, dead0 = score0 === -Infinity;
    const e = Math.exp(score0 - score1);
    const heads = (j) => {
      if (dead1 && dead0) return j / m;
      if (dead1) return j === m ? 1.0 : 0.0;
      if (dead0) return j === 0 ? 0.0 : 1.0;
      if (j === 0) return 0.0;
      if (j === m) return 1.0;
      return 1.0 / (1.0 + (m - j) / Math.max(j, 1) * e);
    };
    const drawn = I.binomialBand(m, p);
    const law = new Float64Array(s + 1);
    let whole = drawn.whole;
    for (let x = 0; x < drawn.values.length; x++) {
      const w = drawn.values[x];
      if (!(w > 0)) continue;
      const b = I.binomialBand(s, heads(drawn.start + x));
      whole = whole && b.whole;
      for (let y = 0; y < b.values.length; y++) law[b.start + y] += w * b.values[y];
    }
    let lo = 0, hi = s, cut = 0.0;
    while (lo < s && cut + law[lo] <= BAND_TAIL) cut += law[lo++];
    cut = 0.0;
    while (hi > lo && cut + law[hi] <= BAND_TAIL) cut += law[hi--];
    whole = whole && lo === 0 && hi === s;
    return keptLaw(lo, law.slice(lo, hi + 1), whole, s, law[0], law[s]);
  }

  // The curator's effect on the coin's chain (coin_curation) for a model group of S = s tosses:
  // law(p̃, s) the kept law, words for labels, cost (mc.predict's budget hint: multiply-adds per
  // row), rate(p̃) the verifier's acceptance rate (null for the others), key (for the caches),
  // symmetric (whether the kept law at 1 − p̃ is the one at p̃ reversed: top and bottom) and
  // dropped (the most probability its band leaves out, in BAND_TAIL units).
  function coinCuration(c, p0, s, rewards) {
    const headsLaw = (heads) => (p, size) => binomialKept(size, heads(p));
    switch (c.curation) {
      case "best-of": {
        const K = c.k;
        const kept = I.bestOfKept(K, rewards[0], rewards[1]);
        const heads = (p) => {
          const b = I.binomialBand(K, p);
          let t = 0.0;
          for (let x = 0; x < b.values.length; x++) t += b.values[x] * kept[b.start + x];
          return t;
        };
        return { law: headsLaw(heads), words: `best-of K = ${K}`, cost: K + s, rate: null,
          key: `best-of ${K} ${rewards[0]} ${rewards[1]}`, symmetric: false, dropped: 4 };
      }
      case "verifier": {
        const strictness = c.strictness, eps = c.false_accept;
        const [a0, a1] = I.verifierAcceptance(p0, strictness, eps);
        const heads = (p) => {
          if (p <= 0.0) return 0.0;
          if (p >= 1.0) return 1.0;
          const accepted = p * a1 + (1.0 - p) * a0;
          return accepted > 0 ? p * a1 / accepted : 0.0;
        };
        return { law: headsLaw(heads), words: `verifier s = ${fmtG(strictness)}, ε = ${fmtG(eps)}`,
          cost: s, rate: (p) => p * a1 + (1.0 - p) * a0, key: `verifier ${a0} ${a1}`,
          symmetric: false, dropped: 2 };
      }
      case "top":
      case "bottom": {
        const likely = c.curation === "top", keep = c.keep;
        return { law: (p, size) => I.filterKeptLaw(p, size, keep, likely),
          words: `${c.curation} q = ${fmtG(keep)}`, cost: I.candidates(s, keep), rate: null,
          key: `${c.curation} ${keep}`, symmetric: true, dropped: 2 };
      }
      case "reweight": {
        const keep = c.keep, power = c.power;
        const m = I.candidates(s, keep);
        return { law: (p, size) => I.reweightKeptLaw(p, p0, size, keep, power),
          words: `reweight q = ${fmtG(keep)}, β = ${fmtG(power)}`, cost: (m + 1) * (s + 1),
          rate: null, key: `reweight ${p0} ${keep} ${power}`, symmetric: false, dropped: 6 };
      }
      default:
        throw new Error(`no coin theory for curator ${c.curation}`);
    }
  }

  // P(Bin(64 S, α) < S): a replicate falls short of S acceptances within the verifier's budget
  // (verifier_shortfall), summed term by term.
  function verifierShortfall(rate, s) {
    let total = 0.0;
    for (let j = 0; j < s; j++) total += I.binomialPmf(j, MAX_CANDIDATES * s, rate);
    return total;
  }

  // The union bound over the curated generations on a replicate ever exhausting the budget
  // (coin_verifier_shortfall_bound): α(p̃) is linear in p̃, so least at the states 1 and k − 1.
  function coinShortfallBound(p0, k, s, strictness, falseAccept, tau, nCurated) {
    if (k < 2 || nCurated <= 0 || s === 0) return 0.0;
    const [a0, a1] = I.verifierAcceptance(p0, strictness, falseAccept);
    const rate = Math.min(...[1.0 / k, (k - 1.0) / k].map((x) => {
      const e = I.temperedHeads(x, tau);
      return e * a1 + (1.0 - e) * a0;
    }));
    return Math.min(1.0, nCurated * I.verifierShortfall(rate, s));
  }

  // E[S/T] of one verified group, T the candidates up to the S-th acceptance
  // (coin_verifier_accept_rate): T is negative binomial, P(T = n) = (S/n) Bin(S; n, α) for
  // S ≤ n ≤ B = 64 S, taken on its band (log-concave, ratios (n/(n − S + 1))(1 − α) up); a
  // replicate short after B candidates records S/B.
  function verifierAcceptRate(alpha, s) {
    const budget = MAX_CANDIDATES * s;
    if (alpha >= 1.0) return 1.0;
    if (alpha <= 0.0) return s / budget;
    const q = 1.0 - alpha;
    const mode = Math.min(budget, Math.max(s, Math.floor((s - 1) / alpha) + 1));
    const b = band(s, budget, mode, (n) => s / n * I.binomialPmf(s, n, alpha),
      (n) => n / (n - s + 1) * q, (n) => (n - s) / ((n - 1) * q));
    let done = 0.0, value = 0.0;
    for (let x = 0; x < b.values.length; x++) {
      done += b.values[x];
      value += b.values[x] * (s / (b.start + x));
    }
    return value + Math.max(0.0, 1.0 - done) * s / budget;
  }

  // -- curation: the categorical's large-N map (theory/curation.py) ---------------------------
  //
  // As N → ∞ the fitted frequencies follow their expectations, and a training set of fresh,
  // model and carried-over shares (a, b, c) maps q to a q0 + b T(q) + c q, T the kept law of
  // the model q at its temperature: the verifier ∝ q̃ a (with the budget's large-S limit),
  // best-of T_v = K q̃_v w_v ∫_0^∞ e^{−λ w_v} M(λ)^{K−1} dλ with M(λ) = Σ_u q̃_u e^{−λ w_u},
  // w = e^{r − max r} (1/x = ∫ e^{−λx} dλ), reweight ∝ q̃^{1−β} q0^β. Labelled as a limit, not
  // as exact.

  // q^(1/τ) renormalised (families/discrete.py's tempered); τ = 1 returns q itself.
  function tempered(q, tau) {
    if (tau === 1.0) return q;
    const out = new Float64Array(q.length);
    let top = -Infinity;
    for (let v = 0; v < q.length; v++) {
      out[v] = Math.log(q[v]) / tau;
      if (out[v] > top) top = out[v];
    }
    let total = 0.0;
    for (let v = 0; v < q.length; v++) { out[v] = Math.exp(out[v] - top); total += out[v]; }
    for (let v = 0; v < q.length; v++) out[v] /= total;
    return out;
  }

  // a_v = ε + (1 − ε)(q0_v / max q0)^s, the verifier's acceptance of each token.
  function categoricalAcceptance(q0, strictness, falseAccept) {
    let top = 0.0;
    for (let v = 0; v < q0.length; v++) top = Math.max(top, q0[v]);
    return Float64Array.from(q0, (x) => falseAccept + (1.0 - falseAccept) *
      (x > 0 ? (x / top) ** strictness : 0.0));
  }

  // The verifier's kept law q a / α and its acceptance rate α = Σ q a, in the large-S limit of
  // the budget: below α = 1/64 a replicate keeps its 64 S α accepted candidates and fills the
  // rest with rejected ones (categorical_verifier_kept with n_units None).
  function categoricalVerifierKept(q, a) {
    let alpha = 0.0;
    for (let v = 0; v < q.length; v++) alpha += q[v] * a[v];
    if (alpha <= 0.0) return [Float64Array.from(q), 0.0];
    const kept = new Float64Array(q.length);
    if (alpha < 1.0 / MAX_CANDIDATES) {
      for (let v = 0; v < q.length; v++) {
        const rejected = q[v] * (1.0 - a[v]) / (1.0 - alpha);
        kept[v] = MAX_CANDIDATES * q[v] * a[v] + (1.0 - MAX_CANDIDATES * alpha) * rejected;
      }
    } else {
      for (let v = 0; v < q.length; v++) kept[v] = q[v] * a[v] / alpha;
    }
    return [kept, alpha];
  }

  // numpy's arange(start, stop, step) for floats: ⌈(stop − start)/step⌉ values, the i-th
  // start + i·d with d = (start + step) − start (numpy's fill, from the first two values).
  function arange(start, stop, step) {
    const length = Math.max(0, Math.ceil((stop - start) / step));
    const out = new Float64Array(length);
    const d = (start + step) - start;
    for (let i = 0; i < length; i++) {
      out[i] = i === 0 ? start : i === 1 ? start + step : start + i * d;
    }
    return out;
  }

  // The nodes λ_i of best-of's quadrature and e^{−λ_i w_d} for the distinct rewards less the
  // top one: the same from one generation to the next while the same tokens are alive, so the
  // last set is kept (the exponentials are most of the work).
  let lastNodes = null;
  function bestOfNodes(distinct) {
    const same = lastNodes !== null && lastNodes.distinct.length === distinct.length &&
      lastNodes.distinct.every((x, d) => x === distinct[d]);
    if (same) return lastNodes;
    const w = distinct.map((x) => Math.exp(x));
    const wMin = Math.max(Math.min(...w), 1e-300);
    const x = arange(BEST_OF_LOG_LOW, Math.log(BEST_OF_DECAY / wMin) + BEST_OF_STEP, BEST_OF_STEP);
    const nodes = x.length, D = w.length;
    const lam = Float64Array.from(x, Math.exp);
    const decay = new Float64Array(D * nodes);
    for (let d = 0; d < D; d++) {
      for (let i = 0; i < nodes; i++) decay[d * nodes + i] = Math.exp(-(w[d] * lam[i]));
    }
    lastNodes = { distinct, w, lam, decay };
    return lastNodes;
  }

  // Best-of K's kept law (categorical_best_of_kept): the trapezoidal rule in x = log λ, step
  // 0.2, from λ = e^{−30} (below it the integrand is λ to within e^{−30}, added in closed form)
  // to λ = e^{60}/w_min; tokens of equal reward share one integral; the result is scaled to
  // Σ q (the map off the simplex is unstable).
  function categoricalBestOfKept(q, r, K) {
    const V = q.length;
    const out = new Float64Array(V);
    if (K === 1) return Float64Array.from(q);
    let top = -Infinity, any = false;
    for (let v = 0; v < V; v++) if (q[v] > 0) { any = true; top = Math.max(top, r[v]); }
    if (!any) return out;
    const distinct = Array.from(new Set(Array.from(r).filter((_, v) => q[v] > 0)
      .map((x) => x - top))).sort((x, y) => x - y);
    const index = new Map(distinct.map((x, i) => [x, i]));
    const inverse = new Int32Array(V);
    const mass = new Float64Array(distinct.length);
    for (let v = 0; v < V; v++) {
      if (!(q[v] > 0)) continue;
      inverse[v] = index.get(r[v] - top);
      mass[inverse[v]] += q[v];
    }
    const { w, lam, decay } = bestOfNodes(distinct);
    const nodes = lam.length, D = w.length;
    const weight = new Float64Array(nodes);       // λ M(λ)^{K−1}
    for (let i = 0; i < nodes; i++) {
      let big = 0.0;
      for (let d = 0; d < D; d++) big += mass[d] * decay[d * nodes + i];
      weight[i] = lam[i] * big ** (K - 1);
    }
    const perToken = new Float64Array(D);
    for (let d = 0; d < D; d++) {
      let sum = 0.0;
      for (let i = 0; i < nodes; i++) sum += decay[d * nodes + i] * weight[i];
      const first = decay[d * nodes] * weight[0];
      const last = decay[d * nodes + nodes - 1] * weight[nodes - 1];
      const integral = BEST_OF_STEP * (sum - 0.5 * (first + last)) + lam[0];
      perToken[d] = K * w[d] * integral;
    }
    let total = 0.0, qTotal = 0.0;
    for (let v = 0; v < V; v++) {
      qTotal += q[v];
      if (q[v] > 0) { out[v] = q[v] * perToken[inverse[v]]; total += out[v]; }
    }
    const scale = qTotal / total;
    for (let v = 0; v < V; v++) out[v] *= scale;
    return out;
  }

  // Reweight's kept law ∝ q̃_v (q0_v / q̃_v)^β over the tokens alive (categorical_reweight_kept).
  function categoricalReweightKept(sampled, q0, power) {
    const V = sampled.length;
    const out = new Float64Array(V);
    const logW = new Float64Array(V).fill(-Infinity);
    let top = -Infinity;
    for (let v = 0; v < V; v++) {
      if (!(sampled[v] > 0)) continue;
      logW[v] = power ? power * (Math.log(q0[v]) - Math.log(sampled[v])) : 0.0;
      if (Number.isFinite(logW[v]) && logW[v] > top) top = logW[v];
    }
    let total = 0.0;
    for (let v = 0; v < V; v++) {
      if (!(sampled[v] > 0)) continue;
      out[v] = top === -Infinity ? sampled[v] : sampled[v] * Math.exp(logW[v] - top);
      total += out[v];
    }
    for (let v = 0; v < V; v++) out[v] /= total;
    return out;
  }

  // q → [T(q), the kept share] (categorical_kept_map): the verifier's acceptance rate (at least
  // 1/64), the fixed 1/K or q of the others.
  function categoricalKeptMap(c, q0, rewards) {
    const sampled = (q) => tempered(q, c.temperature);
    if (c.curation === "verifier") {
      const a = I.categoricalAcceptance(q0, c.strictness, c.false_accept);
      return (q) => {
        const [kept, alpha] = I.categoricalVerifierKept(sampled(q), a);
        return [kept, Math.max(alpha, 1.0 / MAX_CANDIDATES)];
      };
    }
    if (c.curation === "best-of") {
      return (q) => [I.categoricalBestOfKept(sampled(q), rewards, c.k), 1.0 / c.k];
    }
    if (c.curation === "reweight") {
      return (q) => [I.categoricalReweightKept(sampled(q), q0, c.power), c.keep];
    }
    throw new Error(`no categorical theory for curator ${c.curation}`);
  }

  // q_0 = q_1 = q0, q_{t+1} = a q0 + b T(q_t) + c q_t renormalised (categorical_curated_limit):
  // entropy, Gini–Simpson, reward (Σ q r) and the kept share (1 at t ≤ 1 or without a model
  // group).
  function categoricalCuratedLimit(q0, g, shares, kept, rewards) {
    const [a, b, c] = shares;
    const V = q0.length;
    let q = Float64Array.from(q0);
    const out = { entropy: new Float64Array(g + 1), gini_simpson: new Float64Array(g + 1),
      accept: new Float64Array(g + 1), reward: rewards ? new Float64Array(g + 1) : null };
    let share = 1.0;
    for (let t = 0; t <= g; t++) {
      if (t >= 2) {
        const [curated, s] = kept(q);
        share = s;
        const next = new Float64Array(V);
        let total = 0.0;
        for (let v = 0; v < V; v++) {
          next[v] = a * q0[v] + b * curated[v] + c * q[v];
          total += next[v];
        }
        for (let v = 0; v < V; v++) next[v] /= total;
        q = next;
      }
      let h = 0.0, square = 0.0, reward = 0.0;
      for (let v = 0; v < V; v++) {
        if (q[v] > 0) h += q[v] * Math.log(q[v]);
        square += q[v] * q[v];
        if (rewards) reward += q[v] * rewards[v];
      }
      out.entropy[t] = 0.0 - h;
      out.gini_simpson[t] = 1.0 - square;
      out.accept[t] = t >= 2 && b > 0 ? share : 1.0;
      if (rewards) out.reward[t] = reward;
    }
    return out;
  }

  // -- curation: the Gaussian's verifier (theory/curation.py) ----------------------------------

  // Exact E[1/var_t], t = 0..G, under replace with the verifier (ε = 0): the acceptance
  // exp(−s (x − μ0 − δ)²/(2σ0²)) is a Gaussian factor, so the kept law of N(m, λ² v) is normal
  // with 1/v_kept = 1/(λ² v) + s/σ0², and var_{t+1} = v_kept χ²_{N−1}/D with the χ² independent
  // of the past: E[1/var_{t+1}] = D/(N − 3) (E[1/var_t]/λ² + s/σ0²)
  // (gaussian_verifier_inverse_var).
  function gaussianVerifierInverseVar(var0, n, g, strictness, estimator, scale) {
    const d = estimator === "mle" ? n : n - 1;
    const factor = d / (n - 3);
    const out = new Float64Array(g + 1);
    out[0] = 1.0 / var0;
    for (let t = 1; t <= g; t++) {
      out[t] = t === 1 ? factor / var0 : factor * (out[t - 1] / scale ** 2 + strictness / var0);
    }
    return out;
  }

  // -- the metrics of curation and the curated predictions (prediction.py) ----------------------

  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  // Every metric a run of `c` records (RunConfig.metric_names): the family's, then reward
  // (when a reward is set) and accept_rate (when a curator selects).
  function metricNames(c) {
    let names;
    if (c.family === "coin") names = ["p"];
    else if (c.family === "categorical") {
      names = ["entropy", "support", "tv", "gini_simpson", "rare_mass"];
    } else if (c.family === "gaussian") names = ["mean", "var", "w2", "kl", "tail_mass"];
    else {
      const i = c.means.map((_, j) => j);
      names = ["mean", "var", "w2", "kl", "tail_mass", ...i.map((j) => `mean_${j}`),
        ...i.map((j) => `std_${j}`), ...i.map((j) => `weight_${j}`), "em_iterations"];
    }
    if (c.reward !== null) names.push("reward");
    if (!c.identity) names.push("accept_rate");
    return names;
  }

  // The curator in the package's words (Curator.describe).
  function describeCurator(c) {
    switch (c.curation) {
      case "best-of": return `best-of (k = ${fmtG(c.k)})`;
      case "top":
      case "bottom": return `${c.curation} (keep = ${fmtG(c.keep)})`;
      case "reweight": return `reweight (keep = ${fmtG(c.keep)}, power = ${fmtG(c.power)})`;
      case "verifier": {
        const words = [`strictness = ${fmtG(c.strictness)}`];
        if (c.shift) words.push(`shift = ${fmtG(c.shift)}`);
        if (c.false_accept) words.push(`false-accept = ${fmtG(c.false_accept)}`);
        return `verifier (${words.join(", ")})`;
      }
      default: return c.curation;
    }
  }

  // r_v of every token (the coin's [r0, r1]), or null without a reward (_token_rewards).
  const tokenRewards = (c) => (c.reward === null ? null : c.rewardValues);

  // E reward_t of the normal and the mixture from E var_t and E (mean_t − μ₀)², the fitted mean
  // being unbiased under every uncurated policy (_reward_from_moments): target:c, whose reward
  // −(x − c)²/2 has expectation −(var + (mean − c)²)/2, for both; the normal's log density for
  // the normal. null for the mixture's log density (not linear in the moments).
  function rewardFromMoments(c, meanVar, offset2, mean0) {
    const g = c.generations;
    const values = new Float64Array(g + 1);
    if (c.rewardTarget !== null) {
      const target = c.rewardTarget;
      for (let t = 0; t <= g; t++) {
        values[t] = -0.5 * (meanVar[t] + offset2[t] + (mean0 - target) ** 2);
      }
      return curve(`exact E reward_t (from E var_t and E (mean_t − μ₀)², target ${fmtG(target)})`,
        values);
    }
    if (c.family === "gaussian") {
      const var0 = c.std ** 2;
      for (let t = 0; t <= g; t++) {
        values[t] = -0.5 * (Math.log(2 * Math.PI * var0) + (meanVar[t] + offset2[t]) / var0);
      }
      return curve("exact E reward_t (from E var_t and E (mean_t − μ₀)²)", values);
    }
    return null;
  }

  // reward (when a reward is set) and accept_rate (a selecting curator with nothing to curate)
  // of an uncurated run (_uncurated_extras).
  function uncuratedExtras(c, out, offset2) {
    const names = metricNames(c);
    const g = c.generations;
    if (names.includes("accept_rate")) {
      out.curves.accept_rate = [curve("exact accept_rate (= 1: no model sample is curated)",
        new Float64Array(g + 1).fill(1.0))];
    }
    if (!names.includes("reward") || has(out.curves, "reward")) return;
    let rewardCurve = null;
    let why = "its expectation needs more than the moments theory has here";
    if (c.family === "coin") {
      const p = out.curves.p || [];
      if (p.length && p[0].label.startsWith("exact E p_t")) {
        const [r0, r1] = tokenRewards(c);
        rewardCurve = curve("exact E reward_t (= r0 + (r1 − r0) E p_t)",
          p[0].values.map((x) => r0 + (r1 - r0) * x));
      } else {
        why = "E p_t is not known exactly here";
      }
    } else if (c.family === "categorical") {
      if (c.temperature === 1.0) {
        const q0 = zipf(c.vocab, c.zipf), r = tokenRewards(c);
        let level = 0.0;
        for (let v = 0; v < q0.length; v++) level += q0[v] * r[v];
        // Every piece of a training set is unbiased for the last model, so E q_t = q0.
        rewardCurve = curve("exact E reward_t (= E_truth r: E q_t = q0 under every policy)",
          new Float64Array(g + 1).fill(level));
      } else {
        why = "at a temperature ≠ 1 E q_t is not q0, and no exact law is known";
      }
    } else if (offset2 !== null) {
      const v = out.curves.var || [];
      if (v.length && v[0].label.startsWith("exact E var_t")) {
        const mean0 = out.curves.mean[0].values[0];
        rewardCurve = rewardFromMoments(c, v[0].values, offset2, mean0);
        if (rewardCurve === null) {
          why = "the mixture's log density is not linear in the model's moments (only " +
            "target:c is)";
        }
      }
    }
    if (rewardCurve !== null) out.curves.reward = [rewardCurve];
    else out.notes.push(`${c.family}: reward (E_model r) has no exact result here: ${why}`);
  }

  // The fixed kept share of best-of (1/K), top, bottom and reweight (S/m) (accept_share); null
  // for the verifier's, which is random.
  function acceptShare(c, units) {
    if (units === 0) return 1.0;
    if (c.curation === "best-of") return 1.0 / c.k;
    if (c.curation === "top" || c.curation === "bottom" || c.curation === "reweight") {
      return units / I.candidates(units, c.keep);
    }
    return null;
  }

  // The deterministic accept_rate curve (_accept_rate); false for the verifier.
  function acceptRate(c, out, units) {
    const share = acceptShare(c, units);
    if (share === null) return false;
    const g = c.generations;
    const values = new Float64Array(g + 1);
    for (let t = 0; t <= g; t++) values[t] = t >= 2 ? share : 1.0;
    out.curves.accept_rate = [curve(`exact accept_rate (= ${fmtG(share, 4)}: S kept of a fixed ` +
      "number of candidates)", values)];
    return true;
  }

  // Whether the run curates anything (_curates): a curator that is not the identity, and a
  // model group to curate.
  const curates = (c, parts) => !c.identity && parts.synthetic > 0;

  // A curated run (_curated): none of the uncurated results (a curator changes the law of the
  // model's group, and with it every chain, recursion and closed form), the family's curated
  // theory, and a note for every metric without a curve.
  function curated(c, parts, out) {
    const hasRate = acceptRate(c, out, parts.synthetic);    // curation_units(n) = n here
    if (c.family === "coin") coinCurated(c, parts, out);
    else if (c.family === "categorical") categoricalCurated(c, parts, out);
    else if (c.family === "gaussian") gaussianCurated(c, parts, out);
    // mc.predict's test, a metric's name within a note's text, kept as it is.
    const rest = metricNames(c).filter((name) => !has(out.curves, name) &&
      !out.notes.some((note) => note.includes(name)));
    if (rest.includes("accept_rate") && !hasRate) {
      rest.splice(rest.indexOf("accept_rate"), 1);
      out.notes.push(`${c.family}: accept_rate (the verifier's kept share) is random and its ` +
        "expectation needs the model's whole law; not drawn");
    }
    if (rest.length) {
      out.notes.push(`${c.family}: ${rest.join(", ")}: no exact result is known under ` +
        `${describeCurator(c)} curation`);
    }
  }

  // The head-count chain with the curator's kept law in place of the model's tosses
  // (_coin_curated), and its facts: the absorption time and the fixation probability without
  // fresh tosses, the stationary law with them.
  function coinCurated(c, parts, out) {
    const p0 = c.p0, k = c.n, g = c.generations, tau = c.temperature;
    const words = describeCurator(c);
    const names = metricNames(c);
    const metrics = ["p", "absorption", ...["reward", "accept_rate"].filter((name) =>
      names.includes(name) && !has(out.curves, name))].join(", ");
    if (c.real_weight !== null) {
      out.notes.push(`coin, curated (${words}) with a weighted fit: p̂ is not on the grid j/k, ` +
        `so no finite chain is exact; ${metrics} are not drawn`);
      return;
    }
    if (parts.kind !== "mix") {
      out.notes.push(`coin, curated (${words}) under ${parts.kind}: the pool's composition is ` +
        `not a finite chain state (no exact result); ${metrics} are not drawn`);
      return;
    }
    const s = parts.synthetic;
    const rewards = tokenRewards(c);
    const law = I.coinCuration(c, p0, s, rewards);
    if (law.rate !== null) {
      const bound = I.coinShortfallBound(p0, k, s, c.strictness, c.false_accept, tau,
        Math.max(g - 1, 0));
      if (bound > SHORTFALL_TOLERANCE) {
        out.notes.push(`coin, verifier: a replicate may exhaust the verifier's budget of ` +
          `${MAX_CANDIDATES}·S candidates (and be filled with rejected ones) with probability ` +
          `up to ${fmtG(bound, 2)} over the run, so the chain is not exact; ${metrics} are not ` +
          "drawn");
        return;
      }
      out.facts["P(a replicate ever exhausts the verifier's budget) ≤"] = bound;
    }
    if (!(chainAffordable(k + 1, g) && (k + 1) * law.cost * (s + 1) <= CHAIN_BUDGET)) {
      out.notes.push(`coin, curated: the exact chain needs ${k + 1} states over ${g} ` +
        `generations with the ${law.words} kept law, beyond this package's budget ` +
        `(k ≤ ${CHAIN_MAX}); ${metrics} are not drawn`);
      return;
    }
    // The verifier's E accept_rate_t = Σ_i P(H_{t−1} = i) E[S/T | α(f(i/k))].
    let perState = null, acceptNote = null;
    if (law.rate !== null && !has(out.curves, "accept_rate")) {
      if ((k + 1) * MAX_CANDIDATES * s > 10 * CHAIN_BUDGET / 100) {
        acceptNote = "coin, verifier: E accept_rate_t needs the negative binomial law of every " +
          "state, beyond this package's budget; not drawn";
      } else {
        perState = new Float64Array(k + 1);
        for (let i = 0; i <= k; i++) {
          perState[i] = I.verifierAcceptRate(law.rate(I.temperedHeads(i / k, tau)), s);
        }
      }
    }
    const chain = I.coinMixChain(p0, k, g, parts, tau, law, perState);
    out.curves.p = [curve(`exact E p_t (${law.words} chain)`, chain.mean, chain.lower,
      chain.upper, "exact 5–95% of p_t")];
    const label = parts.real === 0 ? "exact P(absorbed by t)"
      : "exact P(p̂ has touched 0 or 1 by t)";
    out.absorbed = { label: `${label} (${law.words} chain)`, values: chain.cdf };
    if (rewards !== null) {
      const [r0, r1] = rewards;
      out.curves.reward = [curve(`exact E reward_t (= r0 + (r1 − r0) E p_t, ${law.words} chain)`,
        chain.mean.map((x) => r0 + (r1 - r0) * x))];
    }
    if (law.rate !== null && !has(out.curves, "accept_rate")) {
      if (acceptNote !== null) out.notes.push(acceptNote);
      else {
        out.curves.accept_rate = [curve("exact E accept_rate_t (S over the candidates up to " +
          "the S-th acceptance)", chain.accept)];
      }
    }
    if (parts.real === 0 && 1 < k) {
      const what = "the fixation probability and the absorption time's mean and sd";
      const facts = I.curatedAbsorptionFacts(p0, k, chain.rows);
      if (facts === null) {
        out.notes.push(`coin, curated: ${what} need a ${k - 1}-state linear solve beyond the ` +
          "page's live budget here; mc.predict gives them");
      } else if (facts.tooLong) {
        out.notes.push(`coin, curated: ${what} are not given here: absorption takes some ` +
          `${facts.tooLong.toPrecision(2)} generations, long enough for moves of probability ` +
          "below 1e-17 per generation, which the page's banded chain leaves out, to matter");
      } else {
        out.facts["fixation probability P(p → 1)"] = facts.fixation;
        out.facts["mean absorption time"] = facts.mean;
        out.facts["sd of absorption time"] = Math.sqrt(facts.variance);
      }
    }
    if (parts.real > 0) {
      const level = (p0 === 0.0 || p0 === 1.0) ? { mean: p0, variance: 0.0 }
        : I.coinStationaryChain(p0, k, parts, tau, chain.mode, law);
      if (!level) {
        out.notes.push("coin, curated: the stationary E p and Var p " + (level === null
          ? `need a ${k + 1}-state linear solve beyond the page's live budget here; mc.predict ` +
            "gives them"
          : "are not given here: the chain has a bottleneck (two modes, say) so narrow that " +
            "moves of probability below 1e-17 per generation, which the page's banded chain " +
            "leaves out, could shift the law across it"));
      } else {
        out.facts["stationary E p"] = level.mean;
        out.facts["stationary Var p"] = level.variance;
      }
    }
  }

  // The large-N limit q ← a q0 + b T(q) + c q (_categorical_curated), labelled as a limit.
  function categoricalCurated(c, parts, out) {
    const words = describeCurator(c);
    const q0 = zipf(c.vocab, c.zipf);
    const n = c.n, g = c.generations, V = q0.length;
    if (c.real_weight !== null || parts.kind !== "mix") {
      const setting = c.real_weight !== null ? "a weighted fit" : parts.kind;
      out.notes.push(`categorical, curated (${words}) with ${setting}: no exact result and no ` +
        "large-N map is drawn (entropy, support, tv, gini_simpson, rare_mass, reward)");
      return;
    }
    if (c.curation === "top" || c.curation === "bottom") {
      out.notes.push(`categorical, ${c.curation}: no large-N map is drawn (entropy, support, tv, ` +
        "gini_simpson, rare_mass, reward): the kept law jumps where two tokens' probabilities " +
        "cross (which of them is cut swaps), the loop drives tokens to such crossings, and " +
        "there the finite-N means do not follow the map");
      return;
    }
    const rewards = tokenRewards(c);
    // The page's cost per generation: a few operations per token (best-of: two multiply-adds
    // per distinct reward and node, its exponentials being computed once).
    let perGeneration = 4 * V;
    if (c.curation === "best-of") {
      let low = Infinity, high = -Infinity;
      for (let v = 0; v < V; v++) {
        if (q0[v] > 0) { low = Math.min(low, rewards[v]); high = Math.max(high, rewards[v]); }
      }
      const spread = high >= low ? high - low : 0.0;
      const nodes = (Math.log(BEST_OF_DECAY) + spread - BEST_OF_LOG_LOW) / BEST_OF_STEP;
      if (g * V * nodes > CHAIN_BUDGET) {
        out.notes.push(`categorical, best-of: the large-N map needs a quadrature of ` +
          `${fmtRound(nodes)} nodes per token and generation, beyond this package's budget ` +
          "(entropy, support, tv, gini_simpson, rare_mass, reward are not drawn)");
        return;
      }
      perGeneration = 2 * new Set(rewards).size * (nodes + 1) + 4 * V;
    }
    if (g * perGeneration > MAP_BUDGET) {
      out.notes.push(`categorical, curated: the large-N map under ${words} needs about ` +
        `${fmtG(g * perGeneration, 2)} operations, beyond the page's live budget here; ` +
        "mc.predict gives it (entropy, support, tv, gini_simpson, rare_mass, reward, " +
        "accept_rate are not drawn)");
      return;
    }
    const kept = I.categoricalKeptMap(c, q0, rewards);
    const shares = [parts.real / n, parts.synthetic / n, parts.carry / n];
    const limit = I.categoricalCuratedLimit(q0, g, shares, kept, rewards);
    const label = (metric) => `large-N limit of ${metric} under ${words} (not exact at finite N)`;
    out.curves.entropy = [curve(label("entropy"), limit.entropy)];
    out.curves.gini_simpson = [curve(label("Gini–Simpson"), limit.gini_simpson)];
    if (rewards !== null) out.curves.reward = [curve(label("E reward"), limit.reward)];
    if (c.curation === "verifier") {
      out.curves.accept_rate = [curve(label("accept_rate"), limit.accept)];
    }
    const drawn = "entropy, gini_simpson" + (rewards !== null ? " and reward" : "");
    out.notes.push(`categorical, curated (${words}): ${drawn} are drawn in the large-N limit ` +
      "q ← a q0 + b T(q) + c q, T the kept law (not exact at finite N: sampling drift adds to " +
      "it, and tokens die)");
    out.notes.push("categorical, curated: support, tv and rare_mass have no exact result (they " +
      "turn on tokens lost to sampling drift, which the large-N limit leaves out, and tv's " +
      "limit hides a finite-N bias of order √(V/N))");
  }

  // The oracle or shifted verifier with ε = 0 under replace: E 1/var_t (_gaussian_curated).
  function gaussianCurated(c, parts, out) {
    const words = describeCurator(c);
    const metrics = "mean, var, w2, kl, tail_mass, reward, accept_rate";
    if (c.curation !== "verifier") {
      out.notes.push(`gaussian, curated (${words}): the kept law of a normal model is not ` +
        `normal, so no exact result is known (${metrics})`);
      return;
    }
    if (c.false_accept > 0) {
      out.notes.push(`gaussian, verifier with ε = ${fmtG(c.false_accept)}: the kept law is a ` +
        "mixture of the model and its Gaussian tilt, not normal, so no exact result is known " +
        `(${metrics})`);
      return;
    }
    const n = c.n, g = c.generations;
    const plain = parts.kind === "mix" && parts.real === 0 && parts.carry === 0 &&
      c.real_weight === null;
    if (!plain || n <= 3) {
      const why = plain ? "E 1/var_t is infinite for N ≤ 3"
        : "only under replace with both moments refitted, unweighted, is the fitted variance a " +
          "kept variance times an independent χ²";
      out.notes.push(`gaussian, verifier: no exact result here (${why}; ${metrics})`);
      return;
    }
    const var0 = c.std ** 2;
    const inverse = I.gaussianVerifierInverseVar(var0, n, g, c.strictness, c.estimator, c.scale);
    const d = c.estimator === "mle" ? n : n - 1;
    out.facts[`E 1/var_t at t = ${g} (verifier, exact)`] = inverse[g];
    out.facts["E 1/var_t: factor per generation D/(N − 3)"] = d / (n - 3);
    out.facts[`1/E[1/var_t] at t = ${g} (a lower bound on E var_t, by Jensen)`] = 1.0 / inverse[g];
    out.notes.push("gaussian, verifier (ε = 0): the acceptance exp(−s (x − μ0 − δ)²/2σ0²) is " +
      "soft, so the kept law of a normal model is exactly normal (no truncated-normal " +
      "moments): 1/v_kept = 1/(λ² var) + s/σ0², and E[1/var_t] = D/(N − 3) " +
      "(E[1/var_{t−1}]/λ² + s/σ0²) exactly (facts), unless a replicate exhausts the " +
      `verifier's budget of ${MAX_CANDIDATES}·S candidates (acceptance rate below about ` +
      `1/${MAX_CANDIDATES})`);
    out.notes.push("gaussian, verifier: E var_t is not given: v_kept = 1/(1/(λ² var) + s/σ0²) " +
      "is concave in var, so E var_{t+1} needs the whole law of var_t, not its mean (only 1/var " +
      `is linear); nor are ${metrics}`);
  }

  // -- the config ------------------------------------------------------------------------------

  const FAMILIES = ["coin", "gaussian", "categorical", "gmm"];
  const CURATORS = ["none", "best-of", "verifier", "top", "bottom", "reweight"];
  const POLICIES = ["replace", "mix", "accumulate", "accumulate-subsample", "augment"];
  const show = (value) => {
    try { return JSON.stringify(value) ?? String(value); } catch (err) { return String(value); }
  };
  function fail(field, what, value) {
    throw new Error(`${field} must be ${what} (got ${show(value)})`);
  }
  function number(config, field, fallback, low, high, what) {
    const value = config[field] === undefined ? fallback : config[field];
    if (typeof value !== "number" || !Number.isFinite(value) || value < low || value > high) {
      fail(field, what, value);
    }
    return value;
  }
  function integer(config, field, fallback, low, high) {
    const value = config[field] === undefined ? fallback : config[field];
    if (!Number.isInteger(value) || value < low || value > high) {
      fail(field, `an integer between ${low} and ${high}`, value);
    }
    return value;
  }
  function numbers(config, field, fallback) {
    const value = config[field] === undefined ? fallback : config[field];
    if (!Array.isArray(value) || value.length < 1 || value.length > 40 ||
        !value.every((x) => typeof x === "number" && Number.isFinite(x))) {
      fail(field, "a list of 1 to 40 finite numbers", value);
    }
    return value;
  }

  // Python's float() of a stripped text (decimal literals with single underscores between
  // digits, inf, infinity, nan in any case, signed), or null where float() raises.
  const DIGITS = String.raw`\d(?:_?\d)*`;
  const FLOAT_TEXT = new RegExp(
    String.raw`^[+-]?(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.?)(?:[eE][+-]?${DIGITS})?$`);
  function pythonFloat(text) {
    const t = text.trim();
    if (/^[+-]?(?:inf|infinity)$/i.test(t)) return t[0] === "-" ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(t)) return NaN;
    return FLOAT_TEXT.test(t) ? Number(t.replace(/_/g, "")) : null;
  }

  // A comma list of exactly `count` finite numbers within ±MAX_REWARD (rewards.py's
  // reward_values).
  function rewardList(spec, count, what) {
    const values = spec.split(",").map(pythonFloat);
    if (values.includes(null)) fail("reward", what, spec);
    if (values.length !== count) fail("reward", `${what}; ${values.length} given`, spec);
    if (!values.every((x) => Number.isFinite(x) && Math.abs(x) <= MAX_REWARD)) {
      fail("reward", `finite numbers within ±${fmtG(MAX_REWARD)}`, spec);
    }
    return values;
  }

  const CONTINUOUS_REWARDS = "truth (the truth's log density) or target:c (-(x - c)^2 / 2)";
  const CATEGORICAL_REWARDS = "comma-separated values, rank (r_v = -v/V) or truth (log q_v)";

  // The reward text of `c`'s family, checked as the family's reward() checks it; sets
  // c.rewardTarget (gaussian, gmm: c of target:c, null for truth) and, not enumerable (kept out
  // of the cache key), c.rewardValues: the coin's [r0, r1], the categorical's r_v.
  function checkReward(c, spec) {
    let values = null;
    c.rewardTarget = null;
    if (c.family === "coin") {
      values = rewardList(spec, 2, "2 numbers r0,r1 (the rewards of tails and heads)");
    } else if (c.family === "categorical") {
      const V = c.vocab;
      if (spec === "rank") {
        values = new Float64Array(V);
        for (let v = 1; v <= V; v++) values[v - 1] = -v / V;
      } else if (spec === "truth") {
        values = zipf(V, c.zipf).map(Math.log);
        if (!values.every(Number.isFinite)) {
          fail("reward", "rank or a list here: truth needs every true probability > 0 (log q_v " +
            "is -inf for a token of probability 0)", spec);
        }
      } else {
        if (!spec.includes(",") && V > 1 && pythonFloat(spec) === null) {
          fail("reward", `${V} ${CATEGORICAL_REWARDS} for family categorical`, spec);
        }
        values = Float64Array.from(rewardList(spec, V, `${V} comma-separated numbers (one per ` +
          "token), rank or truth"));
      }
    } else if (spec !== "truth") {
      if (!spec.startsWith("target:")) {
        fail("reward", `${CONTINUOUS_REWARDS} for family ${c.family}`, spec);
      }
      const target = pythonFloat(spec.slice("target:".length));
      if (target === null) fail("reward", "target:c with c a number", spec);
      if (!Number.isFinite(target) || Math.abs(target) > MAX_REWARD) {
        fail("reward", `target:c with c a finite number within ±${fmtG(MAX_REWARD)}`, spec);
      }
      c.rewardTarget = target;
    }
    Object.defineProperty(c, "rewardValues", { value: values, enumerable: false });
  }

  // The curation and weighted-fit fields (config.py, curation.py, rewards.py), with the
  // contract's defaults: the curator's settings (every one given is range-checked; the
  // curator's own enter `c`), whether it is the identity (best-of K = 1, top or bottom q = 1, a
  // verifier of strictness 0 or false-accept 1: the uncurated run exactly), the reward (best-of
  // takes the family's default, truth, and is refused on the coin without one) and the real
  // samples' weight (only where every training set holds real data; the maximum-likelihood fit
  // only).
  function checkCuration(config, c) {
    const curation = config.curation === undefined || config.curation === null ? "none"
      : config.curation;
    if (!CURATORS.includes(curation)) fail("curation", `one of ${CURATORS.join(", ")}`, curation);
    c.curation = curation;
    const k = integer(config, "k", 4, 1, MAX_K);
    const keep = number(config, "keep", 0.5, 1 / MAX_K, 1,
      "a fraction between 0.001 and 1 (the share kept)");
    const strictness = number(config, "strictness", 1.0, 0, 1e6, "a number between 0 and 1e6");
    const shift = number(config, "shift", 0.0, -1e6, 1e6, "a number between -1e6 and 1e6");
    const falseAccept = number(config, "false_accept", 0.0, 0, 1,
      "a probability between 0 and 1");
    const power = number(config, "power", 1.0, 0, 1e3, "a number between 0 and 1000");
    if (curation === "best-of") {
      c.k = k;
      c.identity = k === 1;
    } else if (curation === "verifier") {
      if (shift !== 0 && (c.family === "coin" || c.family === "categorical")) {
        fail("shift", `0 for family ${c.family} (a discrete verifier's belief is the truth; ` +
          "false_accept makes it noisy)", shift);
      }
      Object.assign(c, { strictness, shift, false_accept: falseAccept });
      c.identity = strictness === 0 || falseAccept === 1;
    } else if (curation === "top" || curation === "bottom") {
      c.keep = keep;
      c.identity = keep === 1;
    } else if (curation === "reweight") {
      Object.assign(c, { keep, power });
      c.identity = false;
    } else {
      c.identity = true;
    }
    let reward = config.reward === undefined ? null : config.reward;
    if (reward !== null && (typeof reward !== "string" || !reward.trim())) {
      fail("reward", "null or a non-empty text", reward);
    }
    reward = reward === null ? null : reward.trim();
    if (reward === null && curation === "best-of" && !c.identity) {
      if (c.family === "coin") {
        fail("reward", "set for best-of curation of the coin: r0,r1 (the rewards of tails and " +
          "heads)", reward);
      }
      reward = "truth";     // every other family's default_reward
    }
    c.reward = reward;
    if (reward !== null) checkReward(c, reward);
    else Object.assign(c, { rewardTarget: null });
    const weight = config.real_weight === undefined ? null : config.real_weight;
    c.real_weight = null;
    if (weight !== null) {
      c.real_weight = number(config, "real_weight", null, 0, 1, "null or a number between 0 and 1");
      // Policy.keeps_real_data: fresh truth in every set (mix with ⌊aN⌋ > 0) or the real set kept.
      const keeps = c.policy === "mix" ? fractionCount(c.real, c.n) > 0 : c.policy !== "replace";
      if (!keeps) {
        fail("real_weight", "null unless every training set holds real data (mix with real > 0, " +
          `accumulate, accumulate-subsample or augment, not ${c.policy}` +
          (c.policy === "mix" ? ` with ⌊real·N⌋ = 0` : "") + ")", weight);
      }
      if (c.family === "gaussian" && c.estimator === "unbiased") {
        fail("estimator", "mle when real data are weighted (the weighted fit is a " +
          "maximum-likelihood fit)", c.estimator);
      }
    }
  }

  // The fields predict reads, checked (an Error names the field and what is allowed) and with
  // the contract's defaults; the seed and the replicates do not enter the theory.
  function checkConfig(config) {
    if (config === null || typeof config !== "object") fail("config", "an object", config);
    const family = config.family;
    if (!FAMILIES.includes(family)) fail("family", `one of ${FAMILIES.join(", ")}`, family);
    const policy = config.policy;
    if (!POLICIES.includes(policy)) fail("policy", `one of ${POLICIES.join(", ")}`, policy);
    const c = { family, policy };
    c.n = integer(config, "n", undefined, 1, 1e12);
    c.generations = integer(config, "generations", undefined, 1, 1e7);
    c.real = 0.0;
    c.synthetic = null;
    const synthetic = config.synthetic === undefined ? null : config.synthetic;
    if (policy === "mix" || policy === "accumulate" || policy === "accumulate-subsample") {
      c.real = number(config, "real", 0.0, 0, 1, "a number between 0 and 1");
    }
    if (policy === "mix" && synthetic !== null) {
      c.synthetic = number(config, "synthetic", null, 0, 1, "null or a number between 0 and 1");
      if (c.real + c.synthetic > 1.0 + 1e-12) {
        fail("synthetic", `at most 1 − real = ${fmtG(1 - c.real)} under mix`, synthetic);
      }
    }
    if (policy === "augment") {
      c.synthetic = synthetic === null ? 1.0 : number(config, "synthetic", 1.0, 0, 1e6,
        "null or a number between 0 and 1e6 (synthetic samples per real sample)");
    }
    if (family === "coin" || family === "categorical") {
      c.temperature = number(config, "temperature", 1.0, 1e-3, 1e3,
        "a number between 0.001 and 1000");
      c.scale = 1.0;
    } else {
      c.scale = number(config, "scale", 1.0, 1e-3, 1e3, "a number between 0.001 and 1000");
      c.temperature = 1.0;
    }
    if (family === "coin") {
      c.p0 = number(config, "p0", 0.5, 0, 1, "a probability between 0 and 1");
    } else if (family === "gaussian") {
      c.mean = number(config, "mean", 0.0, -1e50, 1e50, "a number between -1e50 and 1e50");
      c.std = number(config, "std", 1.0, 1e-50, 1e50, "a number between 1e-50 and 1e50");
      if (!(c.std >= 1e-10 * Math.abs(c.mean) * (1.0 - 1e-12))) {
        fail("std", "at least 1e-10 × |mean|", c.std);
      }
      c.estimator = config.estimator === undefined ? "mle" : config.estimator;
      if (c.estimator !== "mle" && c.estimator !== "unbiased") {
        fail("estimator", "mle or unbiased", c.estimator);
      }
      if (c.estimator === "unbiased" && c.n < 2) {
        fail("n", "at least 2 for the unbiased estimator", c.n);
      }
    } else if (family === "categorical") {
      c.vocab = integer(config, "vocab", 20, 2, 1e7);
      c.zipf = number(config, "zipf", 1.0, 0, Number.MAX_VALUE, "a number ≥ 0");
    } else {
      const means = numbers(config, "means", [-2, 2]);
      const stds = numbers(config, "stds", [1, 1]);
      const weights = numbers(config, "weights", [0.5, 0.5]);
      if (stds.length !== means.length) fail("stds", `${means.length} numbers, one per mean`, stds);
      if (weights.length !== means.length) {
        fail("weights", `${means.length} numbers, one per mean`, weights);
      }
      if (!means.every((m) => Math.abs(m) <= 1e50)) {
        fail("means", "each between -1e50 and 1e50", means);
      }
      if (!stds.every((s) => s >= 1e-50 && s <= 1e50)) {
        fail("stds", "each between 1e-50 and 1e50", stds);
      }
      means.forEach((m, i) => {
        if (!(stds[i] >= 1e-10 * Math.abs(m) * (1.0 - 1e-12))) {
          fail("stds", "each at least 1e-10 × |mean|", stds);
        }
      });
      if (c.n < means.length) fail("n", `at least the number of components (${means.length})`, c.n);
      let total = 0.0;
      for (const w of weights) total += w;
      if (Math.min(...weights) < 0 || Math.abs(total - 1.0) > 1e-9) {
        fail("weights", "numbers ≥ 0 summing to 1", weights);
      }
      // Components sorted by mean (stable), weights normalised: the GMM family's truth.
      const order = means.map((_, i) => i).sort((i, j) => (means[i] - means[j]) || (i - j));
      c.means = order.map((i) => means[i]);
      c.stds = order.map((i) => stds[i]);
      c.weights = order.map((i) => weights[i] / total);
    }
    checkCuration(config, c);
    return c;
  }

  // -- predict ---------------------------------------------------------------------------------

  const cache = new Map();
  const CACHE_SIZE = 8;

  function predict(config) {
    const c = checkConfig(config);
    const key = JSON.stringify(c);
    if (cache.has(key)) return cache.get(key);
    const out = { curves: {}, absorbed: null, facts: {}, notes: [] };
    const parts = theory.pieces(c);
    // A mix whose split is (0 fresh, N synthetic, 0 carried over) is replace.
    const isReplace = c.policy === "replace" ||
      (c.policy === "mix" && parts.real === 0 && parts.carry === 0);
    if (curates(c, parts)) {
      // The uncurated theory does not apply: none of it is given.
      curated(c, parts, out);
    } else {
      let offset2 = null;     // E (mean_t − μ₀)² of the continuous families, for the reward
      if (c.family === "coin") coin(c, parts, isReplace, out);
      else if (c.family === "categorical") categorical(c, parts, isReplace, out);
      else if (c.family === "gaussian") offset2 = gaussianFamily(c, parts, isReplace, out);
      else offset2 = gmm(c, parts, out);
      uncuratedExtras(c, out, offset2);
    }
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value);
    cache.set(key, out);
    return out;
  }

  function clearCache() {
    cache.clear();
    lastNodes = null;
    rowCache.clear();
    solverCache.clear();
    stationaryCache.clear();
  }

  Object.assign(I, {
    binomialPmf, hypergeometricPmf, binomialBand, hypergeometricBand,
    carriedBand: hypergeometricBand, temperedHeads, chainRows, chainStep, lawQuantile,
    coinMixChain, transientSolver, coinAbsorptionFacts, coinStationaryChain, proportionMoments,
    proportionSquareSum, varianceMoments, twoPartMoments, aliveSums, lgamma, digamma, trigamma,
    candidates, bestOfKept, verifierAcceptance, filterKeptLaw, reweightKeptLaw, coinCuration,
    verifierShortfall, coinShortfallBound, verifierAcceptRate, curatedAbsorptionFacts,
    categoricalAcceptance, categoricalVerifierKept, categoricalBestOfKept, categoricalReweightKept,
    categoricalKeptMap, categoricalCuratedLimit, gaussianVerifierInverseVar,
  });

  theory.fractionCount = fractionCount;
  theory.pieces = pieces;
  theory.predict = predict;
  theory.checkConfig = checkConfig;
  theory.clearCache = clearCache;
  theory.formatG = fmtG;
  theory.internals = I;
  theory.metricNames = (config) => metricNames(checkConfig(config));
  theory.limits = { CHAIN_MAX, CHAIN_BUDGET, FACT_BUDGET, LIVE_BUDGET, BAND_TAIL, MAP_BUDGET };
  if (typeof module !== "undefined") module.exports = theory;
})();
