/**
 * @module field-preset
 * Header fields many replies start with (a plugin's constant lines: cors
 * with a fixed origin), checked and rendered once at registration.  A reply
 * given a preset (`Reply._usePreset`) shares its lines instead of making a
 * Map, a tuple and a list per field, and the writer copies them as part of
 * the head's cached prefix (src/response.ts HeadPrefixes): no per-request
 * allocation, check or encoding for them.  Immutable: a reply that reads or
 * changes its fields copies them into its own Map first (src/reply.ts), so
 * nothing one reply does reaches another's answer.
 */
import { SalvoError } from './errors';
import { checkHeaderName, checkHeaderValue, MANAGED } from './headers';
import { HeadPrefixes } from './response';

export class FieldPreset {
  /** The rendered lines ("Name: value\r\n" each), one flat string: a reply's `_headers` while it keeps the preset. */
  readonly lines: string;
  /** Head prefixes that hold `lines`, copied with the status line and Date in one TypedArray.set. */
  readonly heads: HeadPrefixes;
  readonly fields: readonly (readonly [lower: string, name: string, value: string])[];

  /** Each name must be a token salvo lets a reply set (not Content-Type or Set-Cookie, which replies keep apart), once; each value a valid field value. */
  constructor(fields: readonly (readonly [name: string, value: string])[]) {
    const list: [string, string, string][] = [];
    let lines = '';
    for (const [name, value] of fields) {
      checkHeaderName(name);
      const lower = name.toLowerCase();
      if (MANAGED.has(lower)) throw new SalvoError('SALVO_ERR_INVALID_HEADER', `${name} is managed by salvo`);
      if (lower === 'content-type' || lower === 'set-cookie') throw new SalvoError('SALVO_ERR_INVALID_ARG', `a preset cannot hold ${name}`);
      if (list.some((f) => f[0] === lower)) throw new SalvoError('SALVO_ERR_INVALID_ARG', `${name} twice in a preset`);
      const v = checkHeaderValue(name, value);
      list.push([lower, name, v]);
      lines += name + ': ' + v + '\r\n';
    }
    // A flat copy (the concatenation is a rope): the writer compares it by pointer (src/response.ts).
    this.lines = Buffer.from(lines, 'latin1').toString('latin1');
    this.heads = new HeadPrefixes(this.lines);
    for (const f of list) Object.freeze(f);
    this.fields = Object.freeze(list);
  }
}
