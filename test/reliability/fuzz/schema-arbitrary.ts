import fc from 'fast-check';
import type { ZodType } from 'zod';
import { isMarkedBlob } from '../../../src/core/index.js';

/**
 * fast-check arbitraries for an operation's input, read from its zod schema: mostly values inside the schema's
 * bounds (so requests reach the operation, not only the schema check), and at each member, now and then, a value
 * on or across a bound (length max and max + 1, min - 1, integer limits), of the wrong type, huge, deeply nested,
 * or of odd unicode (lone surrogates, controls, astral characters).
 */

/**
 * A member whose JSON text is spliced in as is: deep nesting cannot be built as a value (JSON.stringify and every
 * other recursive walker of the client would overflow its own stack first).
 */
export class RawJson {
  constructor(
    readonly text: string,
    /** The same nesting for the Query protocol: a member name suffix (`.member.1` repeated). */
    readonly querySuffix: string,
  ) {}
}

/** Values the fuzzer's own resources answer to, by member name (a key id for KeyId, a secret for SecretId). */
export type KnownValues = ReadonlyMap<string, readonly string[]>;

type Def = { type: string; [key: string]: any };
type Bag = { minimum?: number; maximum?: number; patterns?: Set<RegExp>; format?: string };

const defOf = (schema: ZodType): Def => (schema as any)._zod.def as Def;
const bagOf = (schema: ZodType): Bag => ((schema as any)._zod.bag ?? {}) as Bag;

/** How often a member leaves the schema's bounds: the rest of the time it stays inside them. */
const HOSTILE_WEIGHT = 1;
const WELL_FORMED_WEIGHT = 9;

export function inputArbitrary(schema: ZodType, known: KnownValues): fc.Arbitrary<unknown> {
  return memberArbitrary(schema, known, undefined, 0);
}

function memberArbitrary(schema: ZodType, known: KnownValues, name: string | undefined, depth: number): fc.Arbitrary<unknown> {
  const wellFormed = wellFormedArbitrary(schema, known, name, depth);
  return fc.oneof({ weight: WELL_FORMED_WEIGHT, arbitrary: wellFormed }, { weight: HOSTILE_WEIGHT, arbitrary: hostileArbitrary(schema) });
}

function wellFormedArbitrary(schema: ZodType, known: KnownValues, name: string | undefined, depth: number): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return wellFormedArbitrary(def.innerType, known, name, depth);
    case 'pipe': {
      // The wire form is the pipe's input; a blob is a string whose base64 holds bytes.
      const blob = blobBounds(schema);
      if (!blob) return wellFormedArbitrary(def.in, known, name, depth);
      const knownBlobs = (name && known.get(name)) ?? [];
      return knownBlobs.length === 0 ? blobArbitrary(blob) : fc.oneof(blobArbitrary(blob), fc.constantFrom(...knownBlobs));
    }
    case 'lazy':
      return depth > 6 ? fc.constant({}) : wellFormedArbitrary(def.getter(), known, name, depth + 1);
    case 'string':
      return stringArbitrary(schema, known, name);
    case 'number':
      return numberArbitrary(schema);
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...(Object.values(def.entries) as string[]));
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'union':
      return fc.oneof(...(def.options as ZodType[]).map((option) => wellFormedArbitrary(option, known, name, depth)));
    case 'array': {
      const { minimum = 0, maximum = 8 } = bagOf(schema);
      return fc.array(memberArbitrary(def.element, known, name, depth + 1), { minLength: minimum, maxLength: Math.max(minimum, Math.min(maximum, 4)) });
    }
    case 'record':
      return fc
        .array(fc.tuple(memberArbitrary(def.keyType, known, undefined, depth + 1), memberArbitrary(def.valueType, known, undefined, depth + 1)), { maxLength: 4 })
        .map((entries) => Object.fromEntries(entries.filter(([key]) => typeof key === 'string')));
    case 'object':
      return objectArbitrary(def.shape as Record<string, ZodType>, known, depth);
    default:
      // unknown, custom (a raw payload): any JSON value.
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** Each member present or not (a required one missing now and then), plus now and then a member no shape has. */
function objectArbitrary(shape: Record<string, ZodType>, known: KnownValues, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const members = Object.entries(shape).map(([member, schema]) => {
    const required = !['optional', 'default', 'prefault'].includes(defOf(schema).type);
    const presence = required ? fc.oneof({ weight: 19, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) : fc.boolean();
    return fc.tuple(fc.constant(member), presence, memberArbitrary(schema, known, member, depth + 1));
  });
  const extra = fc.option(fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })), { freq: 10 });
  return fc.tuple(fc.tuple(...members), extra).map(([entries, unknownMember]) => {
    const value: Record<string, unknown> = {};
    for (const [member, present, memberValue] of entries) if (present) value[member] = memberValue;
    if (unknownMember && !Object.hasOwn(value, unknownMember[0])) value[unknownMember[0]] = unknownMember[1];
    return value;
  });
}

function stringArbitrary(schema: ZodType, known: KnownValues, name: string | undefined): fc.Arbitrary<string> {
  const { minimum = 0, maximum = 64, patterns } = bagOf(schema);
  const maxLength = Math.max(minimum, Math.min(maximum, 48));
  const pattern = patterns ? [...patterns][0] : undefined;
  const free = pattern
    ? fc.stringMatching(pattern).filter((text) => text.length >= minimum && text.length <= maximum)
    : fc.string({ minLength: minimum, maxLength, unit: STRING_UNIT });
  const knownForName = (name && known.get(name)) ?? [];
  if (knownForName.length === 0) return free;
  return fc.oneof({ weight: 2, arbitrary: free }, { weight: 3, arbitrary: fc.constantFrom(...knownForName) });
}

/** Mostly plain ASCII, now and then any grapheme (accents, emoji, combining marks). */
const STRING_UNIT = fc.oneof({ weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) });

function numberArbitrary(schema: ZodType): fc.Arbitrary<number> {
  const { minimum, maximum } = bagOf(schema);
  const min = Number.isFinite(minimum) ? Math.max(minimum!, Number.MIN_SAFE_INTEGER) : -1000;
  const max = Number.isFinite(maximum) ? Math.min(maximum!, Number.MAX_SAFE_INTEGER) : 100_000;
  return fc.integer({ min: Math.ceil(min), max: Math.max(Math.ceil(min), Math.floor(max)) });
}

function blobArbitrary(bounds: { min: number; max: number }): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength: bounds.min, maxLength: Math.max(bounds.min, Math.min(bounds.max, 96)) }).map((bytes) => Buffer.from(bytes).toString('base64'));
}

/**
 * A blob (core/shapes.ts awsBlob) is pipes around a string marked as a blob; its length bounds are refinements on
 * the decoded bytes, read here from their messages. Undefined when the schema is no blob.
 */
function blobBounds(schema: ZodType): { min: number; max: number } | undefined {
  const messages: string[] = [];
  let inner = schema;
  for (let def = defOf(inner); def.type === 'pipe'; def = defOf(inner)) {
    for (const check of def.checks ?? []) messages.push(String(check._zod?.def?.error?.() ?? ''));
    inner = def.in;
  }
  if (defOf(inner).type !== 'string' || !isMarkedBlob(inner)) return undefined;
  const text = messages.join('\n');
  const min = /greater than or equal to (\d+)/.exec(text);
  const max = /less than or equal to (\d+)/.exec(text);
  return { min: min ? Number(min[1]) : 0, max: max ? Number(max[1]) : 64 };
}

/** A value on or across the member's bounds, of a wrong type, huge, deeply nested, or of odd unicode. */
function hostileArbitrary(schema: ZodType): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 8, arbitrary: acrossBounds(schema) },
    { weight: 6, arbitrary: wrongType() },
    { weight: 4, arbitrary: oddUnicode() },
    { weight: 1, arbitrary: deeplyNested() },
    { weight: 1, arbitrary: huge() },
  );
}

function acrossBounds(schema: ZodType): fc.Arbitrary<unknown> {
  let inner = schema;
  for (let def = defOf(inner); ['optional', 'nullable', 'default', 'prefault', 'readonly', 'pipe'].includes(def.type); def = defOf(inner)) {
    inner = def.type === 'pipe' ? def.in : def.innerType;
  }
  const def = defOf(inner);
  const { minimum, maximum } = bagOf(inner);
  const near = (limit: number | undefined) => (limit !== undefined && Number.isFinite(limit) ? [limit - 1, limit, limit + 1] : []);
  switch (def.type) {
    case 'string': {
      const lengths = [...near(minimum), ...near(maximum ?? 2048)].filter((length) => length >= 0 && length <= 300_000);
      return fc.tuple(fc.constantFrom(...lengths), fc.constantFrom('a', 'é', '/', '0', ' ')).map(([length, char]) => char.repeat(length));
    }
    case 'number':
      return fc.constantFrom(...near(minimum), ...near(maximum), 0, -1, 0.5, -0, 2 ** 31, 2 ** 53, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2);
    case 'array': {
      const lengths = [...near(minimum), ...near(maximum ?? 50)].filter((length) => length >= 0 && length <= 20_000);
      return fc.tuple(fc.constantFrom(...lengths, 10_000), fc.constantFrom<unknown>('a', 1, {}, null)).map(([length, item]) => Array.from({ length }, () => item));
    }
    case 'record':
      return fc.constantFrom(2_000, 20_000).map((count) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, 'v'])));
    case 'enum':
      return fc.constantFrom(...(Object.values(def.entries) as string[])).chain((value) => fc.constantFrom(value.toLowerCase(), ` ${value}`, `${value}\u0000`, value.repeat(200)));
    default:
      return wrongType();
  }
}

function wrongType(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 8 }),
    fc.constant([]),
    fc.constant({}),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
  );
}

function oddUnicode(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.string({ unit: 'grapheme-composite', maxLength: 32 }),
    fc.constantFrom('\ud800', '\udfff', 'a\ud800b', '\u0000', '\u202e', '\ufeff', '\uffff', '😀'.repeat(40), '\r\n', '%00', '../../etc/passwd'),
  );
}

/** Nested arrays or objects this deep, as JSON text (see RawJson). */
function deeplyNested(): fc.Arbitrary<RawJson> {
  return fc.tuple(fc.constantFrom(64, 1_000, 20_000, 200_000), fc.boolean()).map(([depth, arrays]) => {
    const text = arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return new RawJson(text, '.member.1'.repeat(Math.min(depth, 90_000)));
  });
}

function huge(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(100_000, 500_000, 1_000_000).map((length) => 'x'.repeat(length)),
    fc.constant(Array.from({ length: 50_000 }, (_, index) => index)),
  );
}
