/**
 * Validators built from the operators' real CRDs (../shared/reference/crds, read-only), as strict as the API
 * server. A structural CRD schema prunes unknown fields, and `kubectl apply` (field validation Strict, the
 * default since Kubernetes 1.27) rejects them; JSON Schema would let them pass. So every object schema that
 * lists `properties` gets `additionalProperties: false`, except where the CRD says
 * `x-kubernetes-preserve-unknown-fields` or gives its own `additionalProperties` (maps). `metadata` is the
 * server's ObjectMeta, not the CRD's to describe: it is left open here and checked as ObjectMeta elsewhere.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

export const CRD_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'reference', 'crds');

export const CRD_FILES = {
  TestRun: 'k6.io_testruns.yaml',
  InnoDBCluster: 'mysql.oracle.com_innodbclusters.yaml',
} as const;
export type CrdKind = keyof typeof CRD_FILES;

type Schema = Record<string, unknown>;

function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const s: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    s[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as Schema).map(([p, x]) => [p, strict(x)]))
        : strict(v);
  }
  if (s.properties && !('additionalProperties' in s) && s['x-kubernetes-preserve-unknown-fields'] !== true) {
    s.additionalProperties = false;
  }
  return s;
}

interface Crd {
  spec: { group: string; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
}

/** The CRD's openAPIV3Schema for `version`, made strict as above. */
export function crdSchema(kind: CrdKind, version: string): Schema {
  const crd = parse(readFileSync(join(CRD_DIR, CRD_FILES[kind]), 'utf8')) as Crd;
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${kind} CRD has no version ${version}`);
  const root = structuredClone(v.schema.openAPIV3Schema);
  const props = { ...(root.properties as Schema), metadata: { type: 'object' } };
  return strict({
    ...root,
    properties: { ...props, apiVersion: { type: 'string' }, kind: { type: 'string' } },
  }) as Schema;
}

// strict: false for the x-kubernetes-* keywords. The OpenAPI number formats are checked by type alone.
const ajv = new Ajv({ allErrors: true, strict: false });
for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'date-time']) ajv.addFormat(f, true);
const cache = new Map<CrdKind, ValidateFunction>();

/** Errors of `obj` against its CRD, as `path: message` lines; empty when valid. */
export function crdErrors(kind: CrdKind, version: string, obj: unknown): string[] {
  let validate = cache.get(kind);
  if (!validate) {
    validate = ajv.compile(crdSchema(kind, version));
    cache.set(kind, validate);
  }
  if (validate(obj)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
  );
}
