// Draws from `items` with Zipf's law (s = 1: the i-th item is drawn in proportion to 1/(i+1)),
// from a fixed-seed linear congruential generator, so every bench and every run draws the same
// sequence: the realistic mix of a few hot sessions and a long tail of cold ones.
export function zipfDraws(items, count, seed = 7) {
  const n = items.length;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1);
  const draw = () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo];
  };
  return Array.from({ length: count }, draw);
}
