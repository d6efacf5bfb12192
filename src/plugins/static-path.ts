/**
 * @module plugins/static-path
 * From the raw request path to the file segments serveStatic may open, or a
 * refusal.  The path is percent-decoded exactly once, strictly (a malformed
 * escape or invalid UTF-8 is a 400, not kept as sent), segment by segment,
 * so that "%2e%2e" is seen as ".." and refused, while "%252e%252e" decodes to
 * the literal name "%2e%2e" (never decoded a second time: it is just a file
 * name that does not exist).  Refused as 400: NUL, a backslash (a separator
 * on Windows), a decoded '/' (%2F would join segments behind our back), and
 * any "." or ".." segment.
 */

export type PathResult =
  /** segments: decoded names under the root; dir: the path ended in '/' (or is the bare prefix with one). */
  | { kind: 'ok'; segments: string[]; dir: boolean; dot: boolean }
  /** The bare prefix without its trailing slash (`/static`): redirect to `/static/`. */
  | { kind: 'prefix' }
  | { kind: 'bad'; why: string }
  /** Not a file name (an empty segment, as in `a//b`). */
  | { kind: 'none' };

/**
 * `raw`: the request path up to '?', undecoded; `skip`: how many segments
 * the route's prefix takes (`/static` is 1), which the router matched.
 */
export function resolvePath(raw: string, skip: number): PathResult {
  const all = raw.split('/');
  // all[0] is the '' before the leading '/'.
  const tail = all.slice(1 + skip);
  if (tail.length === 0) return { kind: 'prefix' };
  const segments: string[] = [];
  let dot = false;
  for (let i = 0; i < tail.length; i++) {
    const rawSeg = tail[i];
    if (rawSeg === '') {
      if (i === tail.length - 1) break; // the trailing '/': a directory
      return { kind: 'none' };
    }
    let seg: string;
    try {
      seg = rawSeg.indexOf('%') === -1 ? rawSeg : decodeURIComponent(rawSeg);
    } catch {
      return { kind: 'bad', why: 'malformed percent-encoding' };
    }
    if (seg.indexOf('\0') !== -1) return { kind: 'bad', why: 'NUL in the path' };
    if (seg.indexOf('\\') !== -1) return { kind: 'bad', why: 'backslash in the path' };
    if (seg.indexOf('/') !== -1) return { kind: 'bad', why: 'encoded slash in the path' };
    if (seg === '.' || seg === '..') return { kind: 'bad', why: 'dot segment in the path' };
    if (seg[0] === '.') dot = true;
    segments.push(seg);
  }
  return { kind: 'ok', segments, dir: tail[tail.length - 1] === '', dot };
}
