/**
 * @module plugins/static-mime
 * Content-Type by file extension for serveStatic: a small table of the types
 * a web app serves (not the whole IANA registry: an unknown extension is
 * application/octet-stream, which a browser downloads rather than renders,
 * the safe default).  Text types name their charset (utf-8) so that a
 * browser never sniffs one (WHATWG Encoding: no charset means a guess).
 */

const UTF8 = '; charset=utf-8';

const TYPES: Record<string, string> = {
  html: 'text/html' + UTF8,
  htm: 'text/html' + UTF8,
  css: 'text/css' + UTF8,
  js: 'text/javascript' + UTF8, // RFC 9239: text/javascript is the one type for JS
  mjs: 'text/javascript' + UTF8,
  cjs: 'text/javascript' + UTF8,
  json: 'application/json' + UTF8,
  map: 'application/json' + UTF8, // source maps are JSON
  webmanifest: 'application/manifest+json' + UTF8,
  txt: 'text/plain' + UTF8,
  md: 'text/markdown' + UTF8,
  csv: 'text/csv' + UTF8,
  xml: 'application/xml' + UTF8,
  svg: 'image/svg+xml' + UTF8,
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  wasm: 'application/wasm', // WebAssembly.instantiateStreaming requires this exact type
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  webm: 'video/webm',
};

export const OCTET_STREAM = 'application/octet-stream';

/** The Content-Type for a file name (its last extension, case-insensitive). */
export function contentType(name: string): string {
  const dot = name.lastIndexOf('.');
  // A name that is only an extension (".env") has none: it is a dotfile.
  if (dot <= 0 || dot === name.length - 1) return OCTET_STREAM;
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? OCTET_STREAM;
}
