/**
 * @module plugins/static-conditional
 * The validators of a served file and the conditional requests on them
 * (RFC 9110 8.8, 13): a weak ETag from size and mtime, Last-Modified, and
 * the preconditions in the RFC's order (13.2.2): If-Match, else
 * If-Unmodified-Since (412); If-None-Match, else If-Modified-Since (304).
 */

/** Weak (RFC 9110 8.8.1): size and mtime change with the bytes but do not prove them equal. */
export function weakETag(size: number, mtimeMs: number): string {
  return `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

/** The entity-tags of an If-Match / If-None-Match value; '*' as ['*']; null when malformed (ignored). */
export function parseETags(value: string): string[] | null {
  const v = value.trim();
  if (v === '*') return ['*'];
  const tags: string[] = [];
  // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; a list may hold empty elements (RFC 9110 5.6.1).
  const re = /\s*(?:(W\/)?"([^"]*)")?\s*(,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < v.length && (m = re.exec(v)) !== null) {
    if (m[2] !== undefined) tags.push((m[1] ?? '') + '"' + m[2] + '"');
    if (m[3] === '') break;
  }
  return re.lastIndex >= v.length || tags.length > 0 ? tags : null;
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** Weak comparison (RFC 9110 8.8.3.2): the opaque tags are equal, W/ or not. */
export function weakMatch(tags: readonly string[], etag: string): boolean {
  const o = opaque(etag);
  return tags.some((t) => t === '*' || opaque(t) === o);
}

/** Strong comparison: neither tag weak.  serveStatic's tags are weak, so only '*' passes. */
export function strongMatch(tags: readonly string[], etag: string): boolean {
  return tags.some((t) => t === '*' || (!t.startsWith('W/') && !etag.startsWith('W/') && t === etag));
}

/** An HTTP-date as seconds, or NaN (an invalid date is ignored, RFC 9110 13.1.3). */
export function httpDateSeconds(value: string): number {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
}

export interface Validators {
  /** The ETag sent (null: etag option off). */
  etag: string | null;
  /** mtime in whole seconds (what Last-Modified can say); null: lastModified off. */
  mtime: number | null;
}

type HeaderOf = (name: string) => string | undefined;

/** 412, 304 or null (go on) for a GET or HEAD of an existing file. */
export function evaluate(header: HeaderOf, v: Validators): 412 | 304 | null {
  const ifMatch = header('if-match');
  if (ifMatch !== undefined) {
    const tags = parseETags(ifMatch);
    if (tags !== null && !(tags.includes('*') || (v.etag !== null && strongMatch(tags, v.etag)))) return 412;
  } else if (v.mtime !== null) {
    const ius = header('if-unmodified-since');
    const d = ius === undefined ? NaN : httpDateSeconds(ius);
    if (!Number.isNaN(d) && v.mtime > d) return 412;
  }
  const inm = header('if-none-match');
  if (inm !== undefined) {
    // If-None-Match takes precedence: If-Modified-Since is then not looked at (13.1.3).
    const tags = parseETags(inm);
    if (tags !== null && (tags.includes('*') || (v.etag !== null && weakMatch(tags, v.etag)))) return 304;
    return null;
  }
  if (v.mtime !== null) {
    const ims = header('if-modified-since');
    const d = ims === undefined ? NaN : httpDateSeconds(ims);
    if (!Number.isNaN(d) && v.mtime <= d) return 304;
  }
  return null;
}
