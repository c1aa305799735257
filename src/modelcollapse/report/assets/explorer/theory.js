// theory.js: MCX.theory, the exact results of modelcollapse.theory for the explorer's families.
//
// `MCX.theory.predict(config)` is a port of `mc.predict` (theory/prediction.py) for the page's
// uncurated runs: the coin, the Gaussian, the categorical (Zipf) model and the 1-D GMM under
// replace, mix (with and without carry-over), accumulate, accumulate-subsample and augment, with
// the sampling bias (coin/categorical temperature τ, gaussian/gmm scale λ). Its curves, labels,
// bands, facts and notes are mc.predict's, value for value (tests/test_explorer_theory.py
// compares them to 1e-9). What it computes, and how:
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

  // Python's format(x, "g"): 6 significant digits, trailing zeros dropped, scientific notation
  // for exponents below −4 or from 6 on (labels and notes quote τ this way).
  function fmtG(x) {
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return Object.is(x, -0) ? "-0" : "0";
    const [mantissa, expText] = x.toExponential(5).split("e");
    const exp = Number(expText);
    const strip = (s) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
    if (exp < -4 || exp >= 6) {
      const e = Math.abs(exp);
      return `${strip(mantissa)}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
    }
    return strip(x.toFixed(5 - exp));
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
  // tosses only).
  const rowCache = new Map();
  function chainRows(k, s, c, tau) {
    const key = `${k},${s},${c},${tau}`;
    if (rowCache.has(key)) return rowCache.get(key);
    const width = s + c;
    const start = new Int32Array(k + 1);
    const length = new Int32Array(k + 1);
    const offset = new Int32Array(k + 2);
    const parts = [];
    let whole = true;       // no row leaves anything out
    for (let i = 0; i <= k; i++) {
      const model = s ? I.binomialBand(s, I.temperedHeads(i / k, tau)) : POINT(0);
      const row = c ? convolve(model, I.carriedBand(k, i, c)) : model;
      whole = whole && row.whole !== false;
      start[i] = row.start;
      length[i] = row.values.length;
      offset[i + 1] = offset[i] + row.values.length;
      parts.push(row.values);
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
      colStart, colLength, colBase, columns };
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
    for (let i = 0; i <= k; i++) reversed[i] = law[k - i];
    let lo = 0, hi = k;
    while (lo <= k && law[lo] < TINY) lo++;
    while (hi >= 0 && law[hi] < TINY) hi--;
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
  // the 5% and 95% quantiles, and P(H_s ∈ {0, k} for some 1 ≤ s ≤ t) (coin_hitting_cdf).
  function coinMixChain(p0, k, g, parts, tau) {
    const rows = I.chainRows(k, parts.synthetic, parts.carry, tau);
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
    return { mean, lower, upper, cdf, mode };
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
  // k − 1 states), or null when the LU costs more than FACT_BUDGET.
  function transientSolver(rows, folded, tau) {
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
      const p = I.temperedHeads(i / k, tau);
      sums[i - 1] = I.binomialPmf(0, k, p) + I.binomialPmf(k, k, p);
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
      solverCache.set(key, I.transientSolver(I.chainRows(k, k, 0, tau), tau === 1.0, tau));
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
  function coinStationaryChain(p0, k, parts, tau, seed) {
    const key = `${k},${parts.real},${parts.synthetic},${parts.carry},${tau},${p0}`;
    if (!stationaryCache.has(key)) {
      if (stationaryCache.size >= 8) stationaryCache.delete(stationaryCache.keys().next().value);
      stationaryCache.set(key, gthStationary(p0, k, parts, tau, seed));
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

  // The stable fixed points of the large-N map p ↦ (m p0 + s f(p) + c p)/k on the grid j/k (the
  // sign changes of map(p) − p from + to −): more than one, and the chain has as many modes,
  // with shares set by escape rates far below what the bands keep.
  function modes(p0, k, parts, tau) {
    let count = 0, previous = 1;
    for (let j = 0; j <= k; j++) {
      const p = j / k;
      const gap = (parts.real * p0 + parts.synthetic * I.temperedHeads(p, tau) + parts.carry * p)
        / k - p;
      const sign = gap > 0 ? 1 : gap < 0 ? -1 : 0;
      if (previous > 0 && sign < 0) count++;
      if (sign !== 0) previous = sign;
    }
    return count;
  }

  function gthStationary(p0, k, parts, tau, seed) {
    const rows = I.chainRows(k, parts.synthetic, parts.carry, tau);
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
      if (small > 0) risk += small * DROPPED / flow[j];
    }
    if (!whole && !(risk <= RELIABLE)) return false;
    // With several modes, one whose share underflowed (π = 0 somewhere) escapes the flow check.
    if (!whole && law.includes(0) && modes(p0, k, parts, tau) > 1) return false;
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

  // Exact E q_t and E q_t² of each category's fitted frequency for every policy
  // (proportion_moments; no weights on this page). q0: an array; returns { mean, square } as
  // arrays of g + 1 Float64Arrays (one per generation, over the categories).
  function proportionMoments(q0, n, g, parts) {
    const V = q0.length;
    const m = parts.real, s = parts.synthetic, c = parts.carry;
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
    if (parts.kind === "augment") {
      const wr = m / (m + s);
      const ws = 1.0 - wr;
      const realSquare = square[1];
      let cross = square[1];
      for (let t = 2; t <= g; t++) {
        const a = mean[t - 1], b = square[t - 1];
        mean.push(vec((v) => wr * q0[v] + ws * a[v]));
        square.push(vec((v) => {
          const modelSquare = s ? (a[v] - b[v]) / s + b[v] : b[v];
          return wr ** 2 * realSquare[v] + ws ** 2 * modelSquare + 2 * wr * ws * cross[v];
        }));
        const old = cross;
        cross = vec((v) => wr * realSquare[v] + ws * old[v]);
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
  function proportionSquareSum(q0, n, g, parts) {
    const { square } = I.proportionMoments([1.0, 0.5], n, g, parts);
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
  // refitted to its own data, every policy (variance_moments; the page has no weighted fits and
  // no --fit mean). Returns { meanVar, offset2 }.
  function varianceMoments(var0, n, g, parts, divisor, scale) {
    const out = rawVarianceMoments(var0, n, g, parts, divisor, scale);
    return { meanVar: saturate(out.meanVar), offset2: saturate(out.offset2) };
  }

  function rawVarianceMoments(var0, n, g, parts, divisor, scale) {
    const m = parts.real, s = parts.synthetic, c = parts.carry;
    const scale2 = scale ** 2;
    if (parts.kind === "augment" || (parts.kind === "mix" && c === 0)) {
      return I.twoPartMoments(var0, n, g, parts, divisor, scale);
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
  // recursion of variance_moments' notes (two_part_moments), unweighted.
  function twoPartMoments(var0, n, g, parts, divisor, scale) {
    const fixed = parts.kind === "augment";
    const m = fixed ? n : parts.real;
    const s = parts.synthetic;
    const scale2 = scale ** 2;
    const wr = m + s ? m / (m + s) : 1.0;
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
  function stationaryVar(var0, n, parts, divisor, scale) {
    const plain = scale === 1.0;
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
      const values = I.varianceMoments(var0, n, horizon, parts, divisor, scale).meanVar;
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

  // E p_t ± 2 sd p_t by moment recursion (_coin_moments).
  function coinMoments(p0, k, g, parts, out) {
    const { mean, square } = I.proportionMoments([p0], k, g, parts);
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
    const square = I.proportionSquareSum(q, n, g, parts);
    out.curves.gini_simpson = [curve("exact E Gini–Simpson", square.map((x) => 1.0 - x))];
    if (parts.kind === "augment") {
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
    if (parts.kind !== "mix" || parts.carry) {
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
  function continuous(c, parts, out, name, var0, mean0, divisor) {
    const n = c.n, g = c.generations;
    const { meanVar, offset2 } = I.varianceMoments(var0, n, g, parts, divisor, c.scale);
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
    const level = stationaryVar(var0, n, parts, divisor, c.scale);
    if (level !== null) {
      out.facts["stationary E var"] = level;
      out.facts["stationary E var / truth's"] = level / var0;
    }
  }

  // Under replace (_gaussian_replace): the typical path exp E log var_t with its log-normal
  // band, √E W2²_t and E KL_t; the collapse-time law is not computed here.
  function gaussianReplace(c, isReplace, out) {
    const n = c.n, g = c.generations, var0 = c.std ** 2;
    if (!isReplace) {
      out.notes.push("gaussian: w2, kl and tail_mass have exact results only under replace; " +
        "var and mean are exact under this policy");
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

  function gaussianFamily(c, parts, isReplace, out) {
    continuous(c, parts, out, "gaussian", c.std ** 2, c.mean, c.estimator);
    if (c.scale === 1.0) {
      gaussianReplace(c, isReplace, out);
    } else {
      out.notes.push("gaussian: with a sampling scale, w2, kl, tail_mass and the collapse-time " +
        "law have no exact result here; var and mean do");
    }
  }

  function gmm(c, parts, out) {
    let mean0 = 0.0, second = 0.0;
    for (let i = 0; i < c.means.length; i++) {
      mean0 += c.weights[i] * c.means[i];
      second += c.weights[i] * (c.stds[i] ** 2 + c.means[i] ** 2);
    }
    if (c.scale !== 1.0) {
      out.notes.push("gmm: with a sampling scale the sampled mixture's variance depends on how " +
        "it splits into within- and between-component parts, so no exact result is known; " +
        "none is drawn");
    } else {
      continuous(c, parts, out, "gmm", second - mean0 ** 2, mean0, "mle");
    }
    out.notes.push("gmm: w2, kl, tail_mass and each component's mean, std and weight have no " +
      "closed form; only the mixture's total mean and variance do (the mixture-variance " +
      "identity)");
  }

  // -- the config ------------------------------------------------------------------------------

  const FAMILIES = ["coin", "gaussian", "categorical", "gmm"];
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
    if (c.family === "coin") coin(c, parts, isReplace, out);
    else if (c.family === "categorical") categorical(c, parts, isReplace, out);
    else if (c.family === "gaussian") gaussianFamily(c, parts, isReplace, out);
    else gmm(c, parts, out);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value);
    cache.set(key, out);
    return out;
  }

  function clearCache() {
    cache.clear();
    rowCache.clear();
    solverCache.clear();
    stationaryCache.clear();
  }

  Object.assign(I, {
    binomialPmf, hypergeometricPmf, binomialBand, hypergeometricBand,
    carriedBand: hypergeometricBand, temperedHeads, chainRows, chainStep, lawQuantile,
    coinMixChain, transientSolver, coinAbsorptionFacts, coinStationaryChain, proportionMoments,
    proportionSquareSum, varianceMoments, twoPartMoments, aliveSums, lgamma, digamma, trigamma,
  });

  theory.fractionCount = fractionCount;
  theory.pieces = pieces;
  theory.predict = predict;
  theory.checkConfig = checkConfig;
  theory.clearCache = clearCache;
  theory.formatG = fmtG;
  theory.internals = I;
  theory.limits = { CHAIN_MAX, CHAIN_BUDGET, FACT_BUDGET, LIVE_BUDGET, BAND_TAIL };
  if (typeof module !== "undefined") module.exports = theory;
})();
