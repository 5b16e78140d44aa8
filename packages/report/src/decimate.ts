/**
 * Decimation for plotting: a trace drawn `columns` wide needs no more than the lowest and highest
 * sample of each column, in the order they occur, so a 60-s record draws as a few hundred points
 * and looks exactly like the full trace at that width (every peak kept).
 */

export interface Polyline {
  /** Where each point is in the original samples. */
  index: Uint32Array;
  value: Float64Array;
}

export function decimateMinMax(samples: ArrayLike<number>, columns: number): Polyline {
  const n = samples.length;
  if (n <= 2 * columns) {
    return { index: Uint32Array.from({ length: n }, (_, i) => i), value: Float64Array.from(samples) };
  }
  const index = new Uint32Array(2 * columns);
  const value = new Float64Array(2 * columns);
  let count = 0;
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * n) / columns);
    const to = Math.floor(((c + 1) * n) / columns);
    let lowAt = from;
    let highAt = from;
    for (let i = from + 1; i < to; i++) {
      const v = samples[i]!;
      if (v < samples[lowAt]!) lowAt = i;
      else if (v > samples[highAt]!) highAt = i;
    }
    const first = Math.min(lowAt, highAt);
    const second = Math.max(lowAt, highAt);
    index[count] = first;
    value[count++] = samples[first]!;
    if (second !== first) {
      index[count] = second;
      value[count++] = samples[second]!;
    }
  }
  return { index: index.subarray(0, count), value: value.subarray(0, count) };
}
