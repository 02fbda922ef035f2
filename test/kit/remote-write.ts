/**
 * A small Prometheus remote-write 1.0 client for tests: protobuf (protobufjs) in a snappy block (snappyjs),
 * POSTed to `/api/v1/write`, with float samples and native histograms. The native-histogram builder buckets
 * values the way client_golang does (k6's remote-write output observes into a client_golang histogram and
 * copies its buckets), so a query over what this sends sees what it would see from k6.
 */
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

/**
 * prometheus/prompb types.proto + remote.proto, the parts a sender fills in (no exemplars, no metadata). Field
 * numbers are the wire format; names are camelCased by protobufjs.
 */
const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
}
message Sample {
  double value = 1;
  int64 timestamp = 2;
}
message Label {
  string name = 1;
  string value = 2;
}
message BucketSpan {
  sint32 offset = 1;
  uint32 length = 2;
}
message Histogram {
  enum ResetHint { UNKNOWN = 0; YES = 1; NO = 2; GAUGE = 3; }
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  repeated double positive_counts = 13;
  ResetHint reset_hint = 14;
  int64 timestamp = 15;
}
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated Histogram histograms = 4;
}
`;

const WriteRequest = protobuf.parse(PROTO).root.lookupType('prometheus.WriteRequest');

/** client_golang's DefNativeHistogramZeroThreshold (2^-128), which k6 leaves as it is. */
export const DEFAULT_ZERO_THRESHOLD = 2.938735877055719e-39;
/** The schema client_golang picks for k6's bucket factor 1.1: the largest with 2^(2^-schema) ≤ 1.1. */
export const K6_SCHEMA = 3;

export interface BucketSpan {
  readonly offset: number;
  readonly length: number;
}

/** An integer native histogram, in the shape of prompb.Histogram (delta-encoded bucket counts). */
export interface NativeHistogram {
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly count: number;
  readonly sum: number;
  readonly positiveSpans: readonly BucketSpan[];
  readonly positiveDeltas: readonly number[];
  readonly negativeSpans: readonly BucketSpan[];
  readonly negativeDeltas: readonly number[];
}

export interface FloatSample {
  readonly value: number;
  readonly timestampMs: number;
}

export interface HistogramSample {
  readonly histogram: NativeHistogram;
  readonly timestampMs: number;
}

/** One series: its labels (`__name__` included) and samples in time order. */
export interface WriteSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples?: readonly FloatSample[];
  readonly histograms?: readonly HistogramSample[];
}

/** Frexp: v = frac * 2^exp with frac in [0.5, 1), for a finite v > 0. */
function frexp(v: number): [number, number] {
  let exp = Math.floor(Math.log2(v)) + 1;
  let frac = v / 2 ** exp;
  // log2 can be off by one ulp at powers of two; settle the fraction into [0.5, 1).
  while (frac < 0.5) [frac, exp] = [frac * 2, exp - 1];
  while (frac >= 1) [frac, exp] = [frac / 2, exp + 1];
  return [frac, exp];
}

const boundsCache = new Map<number, number[]>();
/** client_golang's nativeHistogramBounds[schema]: the 2^schema bucket boundaries within one octave [0.5, 1). */
function octaveBounds(schema: number): number[] {
  let b = boundsCache.get(schema);
  if (!b) {
    const n = 2 ** schema;
    b = Array.from({ length: n }, (_, j) => 2 ** (j / n) / 2);
    boundsCache.set(schema, b);
  }
  return b;
}

/**
 * The bucket client_golang files |v| under: bucket i holds (base^(i-1), base^i] with base = 2^(2^-schema).
 * Same arithmetic (frexp, then a search of the octave's bounds) so values on a boundary land where Go puts them.
 */
export function bucketIndex(v: number, schema: number): number {
  if (!Number.isFinite(v) || v === 0)
    throw new Error(`invalid histogram value; expected finite non-zero, got ${v}`);
  if (!Number.isInteger(schema) || schema < -4 || schema > 8)
    throw new Error(`invalid schema; expected an integer in -4..8, got ${schema}`);
  const [frac, exp] = frexp(Math.abs(v));
  if (schema > 0) {
    const bounds = octaveBounds(schema);
    let j = bounds.findIndex((b) => b >= frac);
    if (j === -1) j = bounds.length;
    return j + (exp - 1) * bounds.length;
  }
  const key = frac === 0.5 ? exp - 1 : exp;
  return (key + (1 << -schema) - 1) >> -schema;
}

/** The upper bound of bucket `index` (inclusive), and its lower bound (exclusive). */
export function bucketBounds(index: number, schema: number): { lower: number; upper: number } {
  const width = 2 ** -schema;
  return { lower: 2 ** ((index - 1) * width), upper: 2 ** (index * width) };
}

/**
 * client_golang's makeBuckets: sorted bucket indexes become spans; a gap of one or two empty buckets is
 * filled with zeros rather than starting a new span; counts are deltas from the previous bucket.
 */
function spansAndDeltas(counts: ReadonlyMap<number, number>): { spans: BucketSpan[]; deltas: number[] } {
  const spans: { offset: number; length: number }[] = [];
  const deltas: number[] = [];
  let prev = 0;
  let next = 0;
  const append = (count: number) => {
    (spans.at(-1) as { length: number }).length++;
    deltas.push(count - prev);
    prev = count;
  };
  [...counts.keys()]
    .sort((a, b) => a - b)
    .forEach((i, n) => {
      const gap = i - next;
      if (n === 0 || gap > 2) spans.push({ offset: gap, length: 0 });
      else for (let j = 0; j < gap; j++) append(0);
      append(counts.get(i) as number);
      next = i + 1;
    });
  return { spans, deltas };
}

/**
 * The native histogram of `values` as client_golang encodes it after observing them in this order: values
 * with |v| ≤ zeroThreshold in the zero bucket, the rest in exponential buckets of the schema.
 */
export function nativeHistogram(
  values: readonly number[],
  opts: { schema?: number; zeroThreshold?: number } = {},
): NativeHistogram {
  const schema = opts.schema ?? K6_SCHEMA;
  const zeroThreshold = opts.zeroThreshold ?? DEFAULT_ZERO_THRESHOLD;
  const positive = new Map<number, number>();
  const negative = new Map<number, number>();
  let zeroCount = 0;
  let sum = 0;
  for (const v of values) {
    sum += v;
    if (Math.abs(v) <= zeroThreshold) {
      zeroCount++;
      continue;
    }
    const side = v > 0 ? positive : negative;
    const i = bucketIndex(v, schema);
    side.set(i, (side.get(i) ?? 0) + 1);
  }
  const pos = spansAndDeltas(positive);
  const neg = spansAndDeltas(negative);
  return {
    schema,
    zeroThreshold,
    zeroCount,
    count: values.length,
    sum,
    positiveSpans: pos.spans,
    positiveDeltas: pos.deltas,
    negativeSpans: neg.spans,
    negativeDeltas: neg.deltas,
  };
}

/** Bucket counts back from spans and deltas: index → count (the inverse of the encoding, for checks). */
export function bucketCounts(spans: readonly BucketSpan[], deltas: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  let i = 0;
  let d = 0;
  let count = 0;
  for (const s of spans) {
    i += s.offset;
    for (let k = 0; k < s.length; k++, i++) {
      count += deltas[d++] ?? Number.NaN;
      if (count !== 0) out.set(i, count);
    }
  }
  return out;
}

/** The remote-write spec: labels sorted by name, none with an empty value. */
function sortedLabels(labels: Readonly<Record<string, string>>): { name: string; value: string }[] {
  return Object.entries(labels)
    .filter(([, value]) => value !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
}

export function encodeWriteRequest(series: readonly WriteSeries[]): Uint8Array {
  const message = WriteRequest.fromObject({
    timeseries: series.map((s) => ({
      labels: sortedLabels(s.labels),
      samples: (s.samples ?? []).map((p) => ({ value: p.value, timestamp: p.timestampMs })),
      histograms: (s.histograms ?? []).map(({ histogram: h, timestampMs }) => ({
        countInt: h.count,
        sum: h.sum,
        schema: h.schema,
        zeroThreshold: h.zeroThreshold,
        zeroCountInt: h.zeroCount,
        negativeSpans: h.negativeSpans,
        negativeDeltas: h.negativeDeltas,
        positiveSpans: h.positiveSpans,
        positiveDeltas: h.positiveDeltas,
        timestamp: timestampMs,
      })),
    })),
  });
  return WriteRequest.encode(message).finish();
}

/** The decoded request as plain objects, int64s as numbers (for round-trip checks). */
export function decodeWriteRequest(body: Uint8Array): Record<string, unknown> {
  return WriteRequest.toObject(WriteRequest.decode(body), { longs: Number, oneofs: true, defaults: false });
}

/** The body of a remote-write request: the encoded WriteRequest in one snappy block (not the framed format). */
export function writeBody(series: readonly WriteSeries[]): Uint8Array {
  return snappy.compress(encodeWriteRequest(series));
}

/** POSTs `series` in one request; Prometheus answers 204, or 400 with the reason (e.g. out-of-order samples). */
export async function remoteWrite(url: string, series: readonly WriteSeries[]): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      'User-Agent': 'mysql-cqrs-k6-test',
    },
    body: writeBody(series),
  });
  if (!res.ok) throw new Error(`remote write to ${url} failed: ${res.status} ${(await res.text()).trim()}`);
}
