// random.js: MCX.random, the explorer's seeded random numbers and exact samplers.
//
// Generator
//   xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM
//   TOMS 47, 2021): 128 bits of state in four 32-bit words (an Int32Array: unboxed), period
//   2^128 − 1, written with Math.imul, shifts and xors, so every operation is exact 32-bit
//   integer arithmetic; checked against the reference C code's outputs.
// Seeding: one stream per (seed, key, ...)
//   `stream(seed, ...keys)` hashes the seed and each key (integers in [0, 2^32)) with Wellons'
//   "lowbias32" finaliser, a bijection of 32-bit words (h ← mix(h ⊕ key + φ), φ = 0x9E3779B9),
//   and fills the four state words from SplitMix32 (a Weyl sequence of step φ through the same
//   finaliser) started at the hash. For a fixed seed, distinct keys give distinct hashes (every
//   step is a bijection of the key), hence distinct states: the simulators' replicate r is
//   stream(seed, r), the same numbers whatever the number of replicates, and no two replicates
//   of a run share a state.
// uniform()
//   53 random bits, (a·2^26 + b) / 2^53 with a the top 27 bits of one output and b the top 26 of
//   the next: every multiple of 2^−53 in [0, 1) equally likely. `uniformInt(k)` is exact for
//   k ≤ 2^32: a 32-bit output is rejected above the largest multiple of k (no modulo bias).
// normal()
//   The ziggurat of Marsaglia & Tsang ("The ziggurat method for generating random variables",
//   J. Statist. Software 5, 2000) with 128 layers, in Doornik's form ("An improved ziggurat
//   method", 2005: a 53-bit uniform for the abscissa, independent bits for the layer): exact,
//   the wedges tested against exp(−x²/2) and the tail beyond R = 3.4426 drawn by Marsaglia's
//   exact tail method. About two 32-bit outputs per normal, no logarithm 99% of the time.
// gamma(a)
//   Marsaglia & Tsang, "A simple method for generating gamma variables", ACM TOMS 26 (2000):
//   exact rejection from a transformed normal, with the squeeze 1 − 0.0331 x⁴; for a < 1,
//   Gamma(a) = Gamma(a + 1) · U^(1/a) (their §6). chisq(ν) = 2 · Gamma(ν/2); chisq(0) = 0.
// binomial(n, p)
//   Exact for any integer n ≥ 0 (with p ≤ ½ by symmetry, X = n − Bin(n, 1 − p) otherwise).
//   n·p < 10: sequential inversion from 0 (BINV, Kachitvichyanukul & Schmeiser, "Binomial random
//   variate generation", CACM 31, 1988), expected n·p + 1 steps. Otherwise BTRS, Hörmann's
//   transformed rejection with squeeze ("The generation of binomial random variates", J. Statist.
//   Comput. Simul. 46, 1993), expected O(1) work (about 1.15 pairs of uniforms): the hat is
//   exact, the acceptance test compares with log f(k)/f(m) written with Stirling's series tails
//   (`stirlerr`, a table to z = 16 and six terms beyond, error < 1e−18), so the only error is
//   floating-point rounding.
// hypergeometric(good, bad, draws)
//   Exact. After the symmetries draws ≤ total/2 and good ≤ bad: if min(good, draws) ≤ 16, an urn
//   simulation (each of the smaller side's items lands in the other with probability
//   remaining/total, exact integer draws); otherwise inversion by a search outward from the mode,
//   whose probability comes from Loader's saddle-point form (C. Loader, "Fast and accurate
//   computation of binomial probabilities", 2000, as in R's dhyper: three binomial terms, each
//   to full relative precision), with the ratio recurrences on either side; expected O(sd) steps.
// multinomial, multivariateHypergeometric
//   Chains of conditional binomials (p_v / Σ_{u ≥ v} p_u, suffix sums) and conditional
//   hypergeometrics (category v among the items not yet considered), as numpy draws them; or,
//   when that is cheaper (few draws or items, many live categories), the draws one by one
//   (inversion of the cumulative sums) and the items themselves (a partial Fisher–Yates
//   shuffle). Both ways are exact.
// poisson(λ), negativeBinomial(n, p)
//   Exact. λ < 10: Knuth's multiplication method (the product of uniforms against e^−λ, as
//   numpy's); otherwise PTRS, Hörmann's transformed rejection with squeeze ("The transformed
//   rejection method for generating Poisson random variables", Insurance: Mathematics and
//   Economics 12, 1993; numpy's random_poisson_ptrs), its acceptance test written with Loader's
//   log f(k) = −stirlerr(k) − bd0(k, λ) − ½ ln 2πk (no cancellation at large λ). The negative
//   binomial (failures before the n-th success, success probability p) is the gamma–Poisson
//   mixture Poisson(Gamma(n) · (1 − p)/p), exact (as numpy draws it).
// ndtri(p)
//   The standard normal quantile, Wichura's AS241 (PPND16, Applied Statistics 37, 1988),
//   relative error about 1e−16.
(function () {
  "use strict";
  const root = typeof window !== "undefined" ? window : globalThis;
  const MCX = (root.MCX = root.MCX || {});

  const GOLDEN = 0x9e3779b9;
  const TWO_POW_26 = 67108864;
  const TWO_POW_53 = 9007199254740992;
  const TWO_POW_32 = 4294967296;
  const LN_2PI = 1.8378770664093453;
  const LN_SQRT_2PI = 0.9189385332046728;
  const TWO_POW_52 = 4503599627370496;
  // Beyond this smaller side the hypergeometric is drawn by inversion from the mode.
  const URN_MAX = 16;

  // The ziggurat's 128 layers of equal area V under exp(−x²/2) (Marsaglia & Tsang 2000):
  // x_1 = R, x_{i+1} = f⁻¹(V / x_i + f(x_i)), x_128 = 0; the base layer 0 has width V / f(R)
  // and holds the tail beyond R.
  const ZIG_R = 3.442619855899;
  const ZIG_V = 9.91256303526217e-3;
  const ZIG_X = new Float64Array(129);
  const ZIG_F = new Float64Array(129);
  const ZIG_RATIO = new Float64Array(128);
  (function layers() {
    const f = (x) => Math.exp(-0.5 * x * x);
    ZIG_X[0] = ZIG_V / f(ZIG_R);
    ZIG_X[1] = ZIG_R;
    for (let i = 2; i < 128; i++) {
      ZIG_X[i] = Math.sqrt(-2 * Math.log(ZIG_V / ZIG_X[i - 1] + f(ZIG_X[i - 1])));
    }
    ZIG_X[128] = 0;
    for (let i = 0; i <= 128; i++) ZIG_F[i] = f(ZIG_X[i]);
    for (let i = 0; i < 128; i++) ZIG_RATIO[i] = ZIG_X[i + 1] / ZIG_X[i];
  })();

  // Scratch for multivariateHypergeometric's list of items (grown as needed, never shrunk).
  let itemScratch = new Int32Array(1024);

  // Wellons' lowbias32: a bijection of 32-bit words with good avalanche.
  function mix32(x) {
    x = (x ^ (x >>> 16)) >>> 0;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    return (x ^ (x >>> 16)) >>> 0;
  }

  function checkWord(name, value) {
    if (!Number.isInteger(value) || value < 0 || value >= TWO_POW_32) {
      throw new Error(`${name} must be an integer in [0, 2^32) (got ${String(value)})`);
    }
    return value;
  }

  // -- Stirling's series and Loader's binomial probabilities --------------------------------

  // stirlerr(z) = ln Γ(z + 1) − [(z + ½) ln z − z + ½ ln 2π], for integers z ≥ 1: the exact
  // values to z = 16 (computed to 50 digits), Stirling's series beyond.
  const STIRLERR = [
    0.0, 0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
    0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096,
    0.009255462182712733, 0.00833056343336287, 0.007573675487951841, 0.00694284010720953,
    0.006408994188004207, 0.0059513701127588475, 0.005554733551962801, 0.0052076559196096404,
  ];

  function stirlerr(z) {
    if (z <= 16) return STIRLERR[z];
    const z2 = 1 / (z * z);
    // 1/12z − 1/360z³ + 1/1260z⁵ − 1/1680z⁷ + 1/1188z⁹ − 691/360360z¹¹ (next term < 1e−18)
    return (1 / 12 - z2 * (1 / 360 - z2 * (1 / 1260 - z2 * (1 / 1680 - z2 * (
      1 / 1188 - z2 * (691 / 360360)))))) / z;
  }

  // bd0(x, m) = x ln(x/m) + m − x, without cancellation when x ≈ m (Loader's series).
  function bd0(x, m) {
    if (Math.abs(x - m) < 0.1 * (x + m)) {
      const v = (x - m) / (x + m);
      let s = (x - m) * v;
      let ej = 2 * x * v;
      const v2 = v * v;
      for (let j = 1; j < 1000; j++) {
        ej *= v2;
        const s1 = s + ej / (2 * j + 1);
        if (s1 === s) return s1;
        s = s1;
      }
      return s;
    }
    return x * Math.log(x / m) + m - x;
  }

  // P(Bin(n, p) = x) to full relative precision (Loader; R's dbinom_raw), q = 1 − p given.
  function binomialPmfRaw(x, n, p, q) {
    if (x < 0 || x > n) return 0;
    if (p === 0) return x === 0 ? 1 : 0;
    if (q === 0) return x === n ? 1 : 0;
    if (x === 0) {
      if (n === 0) return 1;
      return Math.exp(p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q));
    }
    if (x === n) return Math.exp(q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p));
    const lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    const lf = LN_2PI + Math.log(x) + Math.log1p(-x / n);
    return Math.exp(lc - 0.5 * lf);
  }

  function binomialPmf(x, n, p) {
    return binomialPmfRaw(x, n, p, 1 - p);
  }

  // P(Hyp(good, bad, draws) = x) as R's dhyper: p1 p2 / p3 of binomial terms at p = draws/total.
  function hypergeometricPmf(x, good, bad, draws) {
    const total = good + bad;
    if (x < Math.max(0, draws - bad) || x > Math.min(good, draws)) return 0;
    if (draws === 0) return x === 0 ? 1 : 0;
    const p = draws / total;
    const q = (total - draws) / total;
    const p1 = binomialPmfRaw(x, good, p, q);
    const p2 = binomialPmfRaw(draws - x, bad, p, q);
    const p3 = binomialPmfRaw(draws, total, p, q);
    return (p1 * p2) / p3;
  }

  // -- the normal quantile (AS241) ----------------------------------------------------------

  function ndtri(p) {
    if (!(p >= 0 && p <= 1)) return NaN;
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    const q = p - 0.5;
    if (Math.abs(q) <= 0.425) {
      const r = 0.180625 - q * q;
      const num = (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r +
        6.7265770927008700853e+4) * r + 4.5921953931549871457e+4) * r +
        1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
        1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) * q;
      const den = (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r +
        3.9307895800092710610e+4) * r + 2.1213794301586595867e+4) * r +
        5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
        4.2313330701600911252e+1) * r + 1.0);
      return num / den;
    }
    let r = Math.sqrt(-Math.log(q <= 0 ? p : 1 - p));
    let num;
    let den;
    if (r <= 5) {
      r -= 1.6;
      num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r +
        2.41780725177450611770e-1) * r + 1.27045825245236838258e+0) * r +
        3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
        4.63033784615654529590e+0) * r + 1.42343711074968357734e+0);
      den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r +
        1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r +
        6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
        2.05319162663775882187e+0) * r + 1.0);
    } else {
      r -= 5;
      num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
        1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r +
        2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
        5.46378491116411436990e+0) * r + 6.65790464350110377720e+0);
      den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r +
        1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r +
        1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
        5.99832206555887937690e-1) * r + 1.0);
    }
    const x = num / den;
    return q < 0 ? -x : x;
  }

  // -- the generator --------------------------------------------------------------------------

  class Generator {
    constructor(s0, s1, s2, s3) {
      if ((s0 | s1 | s2 | s3) === 0) throw new Error("xoshiro128** state must not be all zero");
      // The state as signed 32-bit words in a typed array: unboxed, so a draw allocates nothing.
      this.s = new Int32Array([s0 | 0, s1 | 0, s2 | 0, s3 | 0]);
    }

    // The next 32-bit output of xoshiro128** (in [0, 2^32)). Int32 arithmetic is the same
    // bits as uint32 arithmetic; only the result is read as unsigned.
    nextU32() {
      const s = this.s;
      const s0 = s[0];
      const s1 = s[1];
      const x = Math.imul(s1, 5);
      const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
      const t = s1 << 9;
      const s2 = s[2] ^ s0;
      const s3 = s[3] ^ s1;
      s[1] = s1 ^ s2;
      s[0] = s0 ^ s3;
      s[2] = s2 ^ t;
      s[3] = (s3 << 11) | (s3 >>> 21);
      return result;
    }

    uniform() {
      const a = this.nextU32() >>> 5;
      const b = this.nextU32() >>> 6;
      return (a * TWO_POW_26 + b) / TWO_POW_53;
    }

    // A uniform integer in [0, k), exactly, for 1 ≤ k ≤ 2^32.
    uniformInt(k) {
      const limit = TWO_POW_32 - (TWO_POW_32 % k);
      for (;;) {
        const r = this.nextU32();
        if (r < limit) return r % k;
      }
    }

    // A standard normal by the ziggurat (see the header): one 53-bit uniform u ∈ [−1, 1) and a
    // layer i from the 5 + 2 output bits the uniform leaves unused.
    normal() {
      for (;;) {
        const hi = this.nextU32();
        const lo = this.nextU32();
        const u = ((hi >>> 5) * TWO_POW_26 + (lo >>> 6)) / TWO_POW_52 - 1;
        const i = (hi & 31) | ((lo & 3) << 5);
        const x = u * ZIG_X[i];
        if (Math.abs(u) < ZIG_RATIO[i]) return x; // inside the layer's rectangle under the curve
        if (i === 0) {
          // The base layer beyond R: Marsaglia's exact tail, R + a with a = −ln(U₁)/R accepted
          // when −2 ln U₂ > a².
          let a;
          let b;
          do {
            a = -Math.log(1 - this.uniform()) / ZIG_R;
            b = -Math.log(1 - this.uniform());
          } while (b + b < a * a);
          return u < 0 ? -(ZIG_R + a) : ZIG_R + a;
        }
        // The wedge between the rectangle and the curve: accept under exp(−x²/2).
        if (ZIG_F[i + 1] + this.uniform() * (ZIG_F[i] - ZIG_F[i + 1]) < Math.exp(-0.5 * x * x)) {
          return x;
        }
      }
    }

    gamma(shape) {
      if (!(shape > 0)) return 0;
      if (shape < 1) {
        // Gamma(a) = Gamma(a + 1) · U^(1/a); 1 − U lies in (0, 1], never 0.
        return this.gamma(shape + 1) * Math.pow(1 - this.uniform(), 1 / shape);
      }
      const d = shape - 1 / 3;
      const c = 1 / Math.sqrt(9 * d);
      for (;;) {
        let x;
        let v;
        do {
          x = this.normal();
          v = 1 + c * x;
        } while (v <= 0);
        v = v * v * v;
        const u = 1 - this.uniform();
        const x2 = x * x;
        if (u < 1 - 0.0331 * x2 * x2) return d * v;
        if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
      }
    }

    chisq(df) {
      return df > 0 ? 2 * this.gamma(0.5 * df) : 0;
    }

    // Poisson(λ), exactly (see the header); λ = ∞ gives ∞.
    poisson(lam) {
      if (!(lam > 0)) return 0;
      if (lam === Infinity) return Infinity;
      if (lam < 10) {
        const limit = Math.exp(-lam);
        let x = 0;
        let product = this.uniform();
        while (product > limit) {
          x += 1;
          product *= this.uniform();
        }
        return x;
      }
      const slam = Math.sqrt(lam);
      const b = 0.931 + 2.53 * slam;
      const a = -0.059 + 0.02483 * b;
      const logInvAlpha = Math.log(1.1239 + 1.1328 / (b - 3.4));
      const vr = 0.9277 - 3.6224 / (b - 2);
      for (;;) {
        const u = this.uniform() - 0.5;
        const v = this.uniform();
        const us = 0.5 - Math.abs(u);
        const k = Math.floor((2 * a / us + b) * u + lam + 0.43);
        if (us >= 0.07 && v <= vr) return k;
        if (k < 0 || (us < 0.013 && v > us)) continue;
        // log f(k) for k ≥ 1 (Loader): −stirlerr(k) − bd0(k, λ) − ½ ln 2πk; f(0) = e^−λ.
        const logF = k === 0 ? -lam
          : -stirlerr(k) - bd0(k, lam) - 0.5 * (LN_2PI + Math.log(k));
        if (Math.log(v) + logInvAlpha - Math.log(a / (us * us) + b) <= logF) return k;
      }
    }

    // Failures before the n-th success of Bernoulli(p) trials: Poisson(Gamma(n) (1 − p)/p).
    negativeBinomial(n, p) {
      if (!(n > 0) || p >= 1) return 0;
      if (!(p > 0)) return Infinity;
      return this.poisson(this.gamma(n) * ((1 - p) / p));
    }

    binomial(n, p) {
      if (!(n > 0) || !(p > 0)) return 0;
      if (p >= 1) return n;
      if (p > 0.5) return n - this._binomialLow(n, 1 - p); // 1 − p is exact for p ≥ ½
      return this._binomialLow(n, p);
    }

    // Bin(n, p) for 0 < p ≤ ½.
    _binomialLow(n, p) {
      return n * p < 10 ? this._binomialInversion(n, p) : this._binomialBtrs(n, p);
    }

    _binomialInversion(n, p) {
      const q = 1 - p;
      const s = p / q;
      const a = (n + 1) * s;
      const start = Math.exp(n * Math.log1p(-p)); // q^n ≥ e^−10·(1 + …): never underflows here
      for (;;) {
        let r = start;
        let u = this.uniform();
        let x = 0;
        // f(x + 1) = f(x) · ((n + 1)/(x + 1) − 1) · p/q; return the first x with u < F(x).
        while (u >= r) {
          u -= r;
          x += 1;
          if (x > n) break;
          r *= a / x - s;
          if (r === 0) break;
        }
        if (x <= n && r > 0) return x;
        // Only rounding leaves u above the summed mass: draw again (exact, conditionally).
      }
    }

    _binomialBtrs(n, p) {
      const q = 1 - p;
      const spq = Math.sqrt(n * p * q);
      const b = 1.15 + 2.53 * spq;
      const a = -0.0873 + 0.0248 * b + 0.01 * p;
      const c = n * p + 0.5;
      const vr = 0.92 - 4.2 / b;
      const alpha = (2.83 + 5.1 / b) * spq;
      const r = p / q;
      const m = Math.floor((n + 1) * p);
      for (;;) {
        const u = this.uniform() - 0.5;
        let v = this.uniform();
        const us = 0.5 - Math.abs(u);
        const k = Math.floor((2 * a / us + b) * u + c);
        if (k < 0 || k > n) continue;
        if (us >= 0.07 && v <= vr) return k;
        v = Math.log(v * alpha / (a / (us * us) + b));
        // log f(k)/f(m) with ln x! = (x + ½) ln(x + 1) − (x + 1) + ½ ln 2π + stirlerr(x + 1),
        // grouped so that the large terms cancel inside logarithms of ratios.
        const bound = (m + 0.5) * Math.log((m + 1) / (r * (n - m + 1)))
          + (n + 1) * Math.log((n - m + 1) / (n - k + 1))
          + (k + 0.5) * Math.log(r * (n - k + 1) / (k + 1))
          + stirlerr(m + 1) + stirlerr(n - m + 1) - stirlerr(k + 1) - stirlerr(n - k + 1);
        if (v <= bound) return k;
      }
    }

    hypergeometric(good, bad, draws) {
      if (!(draws > 0) || !(good > 0)) return 0;
      if (!(bad > 0)) return draws;
      const total = good + bad;
      if (draws >= total) return good;
      // X = good − Hyp(good, bad, total − draws): the undrawn items are a uniform subset too.
      const complement = draws > total / 2;
      const d = complement ? total - draws : draws;
      // Hyp(g, b, d) = d − Hyp(b, g, d): count the bad items drawn instead.
      const swap = good > bad;
      const g = swap ? bad : good;
      const bb = swap ? good : bad;
      let x = this._hypergeometricCore(g, bb, d);
      if (swap) x = d - x;
      if (complement) x = good - x;
      return x;
    }

    // Hyp(g, b, d) with 1 ≤ g ≤ b and 1 ≤ d ≤ (g + b)/2, so the support is 0..min(g, d).
    _hypergeometricCore(g, b, d) {
      const total = g + b;
      const hi = Math.min(g, d);
      if (hi <= URN_MAX && total <= TWO_POW_32) { // (uniformInt is exact up to 2^32)
        // The k = min(g, d) items of the smaller side, one by one: each lands in the other side
        // (of c items still free among `left`) with probability c / left.
        const k = hi;
        let c = k === g ? d : g;
        let left = total;
        let x = 0;
        for (let i = 0; i < k; i++) {
          if (this.uniformInt(left) < c) {
            x += 1;
            c -= 1;
          }
          left -= 1;
        }
        return x;
      }
      const mode = Math.floor(((d + 1) * (g + 1)) / (total + 2));
      const fMode = hypergeometricPmf(mode, g, b, d);
      for (;;) {
        let u = this.uniform() - fMode;
        if (u < 0) return mode;
        let up = mode;
        let down = mode;
        let fUp = fMode;
        let fDown = fMode;
        for (;;) {
          let moved = false;
          if (up < hi && fUp > 0) {
            // f(k + 1) / f(k) = (g − k)(d − k) / ((k + 1)(b − d + k + 1))
            fUp *= ((g - up) * (d - up)) / ((up + 1) * (b - d + up + 1));
            up += 1;
            u -= fUp;
            if (u < 0) return up;
            moved = true;
          }
          if (down > 0 && fDown > 0) {
            // f(k − 1) / f(k) = k (b − d + k) / ((g − k + 1)(d − k + 1))
            fDown *= (down * (b - d + down)) / ((g - down + 1) * (d - down + 1));
            down -= 1;
            u -= fDown;
            if (u < 0) return down;
            moved = true;
          }
          if (!moved) break; // rounding left u above the summed mass: draw again
        }
      }
    }

    // Multinomial(n, probs[0..k)) counts into out[offset..offset + k); `scratch` is a
    // Float64Array of length ≥ k + 1 (allocated if absent). probs need not be normalised;
    // categories of probability 0 draw nothing. Two exact methods, whichever is cheaper: a chain
    // of conditional binomials, Bin(n − Σ_{u<v} x_u, p_v / Σ_{u≥v} p_u) (about one binomial per
    // live category), or n categorical draws by inversion of the cumulative sums (binary search,
    // about log₂ k steps each), when n is small next to the number of live categories.
    multinomial(n, probs, k, out, offset = 0, scratch = null) {
      const sums = scratch || new Float64Array(k + 1);
      let alive = 0;
      let last = -1;
      let total = 0;
      for (let v = 0; v < k; v++) {
        const p = probs[v];
        if (p > 0) {
          alive += 1;
          last = v;
          total += p;
        }
        sums[v] = total; // cumulative: sums[v] = Σ_{u ≤ v} p_u
        out[offset + v] = 0;
      }
      if (!(n > 0) || last < 0) return out;
      if (n * (Math.log2(k) + 3) < 40 * alive) {
        for (let i = 0; i < n; i++) {
          // the first v with sums[v] > x: a category of probability 0 has an empty interval
          const x = this.uniform() * total;
          let lo = 0;
          let hi = last;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (sums[mid] > x) hi = mid;
            else lo = mid + 1;
          }
          out[offset + lo] += 1;
        }
        return out;
      }
      // Suffix sums Σ_{u ≥ v} p_u, summed from the end (not total − prefix: no cancellation).
      let tail = 0;
      for (let v = k - 1; v >= 0; v--) {
        if (probs[v] > 0) tail += probs[v];
        sums[v] = tail;
      }
      let remaining = n;
      for (let v = 0; v <= last && remaining > 0; v++) {
        const p = probs[v];
        if (!(p > 0)) continue;
        const x = v === last ? remaining : this.binomial(remaining, Math.min(1, p / sums[v]));
        out[offset + v] = x;
        remaining -= x;
      }
      return out;
    }

    // m items drawn without replacement from categories of counts[countsOffset ..][0..k): their
    // counts into out[offset..offset + k). Two exact methods, whichever is cheaper: a chain of
    // conditional hypergeometrics (category v's count among the items of categories ≥ v,
    // training_sets.Counts.subsample), or, when the items are few next to the live categories,
    // the items themselves listed and m of them chosen by a partial Fisher–Yates shuffle.
    multivariateHypergeometric(counts, k, m, out, offset = 0, countsOffset = 0) {
      let left = 0;
      let alive = 0;
      for (let v = 0; v < k; v++) {
        const c = counts[countsOffset + v];
        left += c;
        if (c > 0) alive += 1;
        out[offset + v] = 0;
      }
      if (!(m > 0)) return out;
      if (m >= left) {
        for (let v = 0; v < k; v++) out[offset + v] = counts[countsOffset + v];
        return out;
      }
      if (left + 4 * m < 30 * alive && left <= 1 << 24) {
        if (itemScratch.length < left) {
          itemScratch = new Int32Array(Math.max(left, 2 * itemScratch.length));
        }
        const items = itemScratch;
        let at = 0;
        for (let v = 0; v < k; v++) {
          for (let c = counts[countsOffset + v]; c > 0; c--) items[at++] = v;
        }
        for (let i = 0; i < m; i++) {
          const j = i + this.uniformInt(left - i);
          const chosen = items[j];
          items[j] = items[i];
          items[i] = chosen;
          out[offset + chosen] += 1;
        }
        return out;
      }
      let remaining = m;
      for (let v = 0; v < k && remaining > 0; v++) {
        const c = counts[countsOffset + v];
        if (c > 0) {
          const x = remaining >= left ? c : this.hypergeometric(c, left - c, remaining);
          out[offset + v] = x;
          remaining -= x;
          left -= c;
        }
      }
      return out;
    }
  }

  // A generator for the stream named by (seed, ...keys); see the header.
  function stream(seed, ...keys) {
    let h = mix32((checkWord("seed", seed) + GOLDEN) >>> 0);
    for (const key of keys) h = mix32(((h ^ checkWord("stream key", key)) + GOLDEN) >>> 0);
    let weyl = h;
    const words = [];
    for (let j = 0; j < 4; j++) {
      weyl = (weyl + GOLDEN) >>> 0;
      words.push(mix32(weyl));
    }
    return new Generator(words[0], words[1], words[2], words[3]);
  }

  const random = (MCX.random = {
    Generator,
    stream,
    ndtri,
    binomialPmf,
    hypergeometricPmf,
    stirlerr,
    LN_SQRT_2PI,
  });
  if (typeof module !== "undefined") module.exports = random;
})();
