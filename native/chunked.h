/* Chunked request bodies (RFC 9112 section 7.1).
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size   = 1*HEXDIG            (overflow past max_body: 413)
 *   chunk-ext    = *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *
 * Strict like the head parser: CRLF only, no bare LF; trailer fields must be
 * valid field lines (they are validated and dropped).
 *
 * scan_chunked keeps no state of its own: the caller passes back the
 * ChunkScan an incomplete call left (the connection keeps one per request).
 * It never reads at or past buf + len and never allocates.
 */
#ifndef SALVO_CHUNKED_H
#define SALVO_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

namespace salvo {

enum ChunkedResult : int {
  kChunkedComplete = 1,
  kChunkedIncomplete = -2,
  kChunkedError = -1,      // malformed: 400
  kChunkedTooLarge = -413, // decoded size would exceed max_body, the encoded
                           // body exceeds chunked_wire_limit(max_body), or the
                           // extensions exceed kMaxChunkExtBytes
  kChunkedTrailersTooLarge = -431,  // the trailer section exceeds kMaxTrailerBytes
};

/* At most this many bytes of chunk extensions per message: every byte after
 * the chunk-size digits and before the CR of each size line, summed over all
 * chunks (the CR, LF and digits do not count).  16 KiB and 413, as node's fix
 * for CVE-2024-22019 (HPE_CHUNK_EXTENSIONS_OVERFLOW), where a client kept a
 * server busy with extensions it never has to store. */
constexpr size_t kMaxChunkExtBytes = 16 * 1024;

/* At most this many bytes of trailer section per message: every trailer
 * field line with its CRLF (not the final empty line).  Trailers are field
 * lines like the head's, so they get the head's default bound (Node's
 * --max-http-header-size, Limits::max_header_bytes) and the head's status,
 * 431 (RFC 6585 5). */
constexpr size_t kMaxTrailerBytes = 16 * 1024;

/* The most bytes a chunked body may take on the wire: its data plus framing
 * for many small chunks.  Past it the body is refused (413) even if the data
 * is small, so a client cannot make us buffer 6 bytes per byte of body. */
constexpr size_t chunked_wire_limit(size_t max_body) { return 2 * max_body + 65536; }

/* Where an incomplete scan of one message's chunked body stopped, so that the
 * next call goes on from there: every byte of the body is examined once, in
 * whichever read it arrives, not once per read (a size line, an extension or
 * a trailer sent a byte at a time would otherwise cost time quadratic in its
 * length).  The connection keeps one per request being received and copies
 * it opaquely; ChunkScan() is a new body. */
struct ChunkScan {
  size_t resume = 0;   // bytes after the head examined and accepted so far; on
                       // kChunkedComplete, the whole body's length on the wire
  size_t decoded = 0;  // chunk-data bytes declared by the size lines so far; on
                       // kChunkedComplete, the decoded length
  size_t size = 0;     // the chunk-size being read, then the data bytes still to come
  size_t ext_bytes = 0;      // chunk-ext bytes so far (kMaxChunkExtBytes)
  size_t trailer_bytes = 0;  // trailer-section bytes so far (kMaxTrailerBytes)
  uint8_t state = 0;   // where in the grammar `resume` is (chunked.cc); 0: a new body
};

/* Scans the chunked body at buf (len bytes buffered so far), going on from
 * *scan (ChunkScan() the first time; then what the previous call left, on
 * the same bytes plus any that arrived since).
 *   kChunkedComplete    scan->resume = bytes of the body on the wire (through
 *                       the final CRLF), scan->decoded = bytes of chunk data
 *   kChunkedIncomplete  every buffered byte is a valid prefix; pass *scan back
 *                       with more bytes (scan->resume == len)
 *   kChunkedError, kChunkedTooLarge, kChunkedTrailersTooLarge: refuse; *scan
 *                       is then meaningless (start the next message afresh)
 * A byte that proves the body malformed or over a limit is reported in the
 * call that first sees it, even before the rest of its line arrives, so
 * every strict prefix of a valid body is incomplete. */
int scan_chunked(const char* buf, size_t len, size_t max_body, ChunkScan* scan);

/* Streaming decode (a route whose body is streamed to JS, not buffered):
 * goes on from *scan over buf[0, len), which starts at the first byte the
 * previous call did not consume (ChunkScan() for a new body), and moves the
 * chunk data it passes to the front of buf, in place.
 *   kChunkedIncomplete  every byte consumed; *decoded bytes of data at buf
 *   kChunkedComplete    scan->resume bytes consumed (through the final CRLF);
 *                       *decoded bytes of data at buf
 *   kChunkedError, kChunkedTooLarge, kChunkedTrailersTooLarge: refuse (the
 *                       data decoded before the bad byte is still at buf)
 * The decoded total is bounded by max_body (413), extensions and trailers by
 * the caps above; there is no wire limit, since nothing is kept between
 * calls.  Never reads at or past buf + len. */
int decode_chunked_stream(char* buf, size_t len, size_t max_body, ChunkScan* scan,
                          size_t* decoded);

/* Moves the chunk data of a body that scan_chunked accepted to the front of
 * buf (in place: the decoded form is never longer).  Returns the decoded
 * length. */
size_t decode_chunked(char* buf, size_t encoded_len);

}  // namespace salvo

#endif
