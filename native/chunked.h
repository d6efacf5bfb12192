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
 * scan_chunked keeps no state of its own: the caller passes back the resume
 * point an incomplete call reported (the connection keeps it per request).
 * It never reads at or past buf + len and never allocates.
 */
#ifndef SALVO_CHUNKED_H
#define SALVO_CHUNKED_H

#include <stddef.h>

namespace salvo {

enum ChunkedResult : int {
  kChunkedComplete = 1,
  kChunkedIncomplete = -2,
  kChunkedError = -1,      // malformed: 400
  kChunkedTooLarge = -413, // decoded size would exceed max_body, or the encoded
                           // body exceeds chunked_wire_limit(max_body)
};

/* The most bytes a chunked body may take on the wire: its data plus framing
 * for many small chunks.  Past it the body is refused (413) even if the data
 * is small, so a client cannot make us buffer 6 bytes per byte of body. */
/* Where an incomplete scan of one message's chunked body resumes; the
 * connection keeps one per request being received (default: a new body). */
struct ChunkScan {
  size_t resume = 0;   // bytes after the head already accepted
  size_t decoded = 0;  // chunk-data bytes before `resume`
};

constexpr size_t chunked_wire_limit(size_t max_body) { return 2 * max_body + 65536; }

/* In: *encoded_len / *decoded_len = where to resume (0 / 0 the first time;
 * then what an incomplete call left there), so a body that arrives in many
 * reads is scanned once, not once per read.
 * On kChunkedComplete: *encoded_len = bytes of the whole chunked body on the
 * wire (through the final CRLF), *decoded_len = bytes of chunk data.
 * On kChunkedIncomplete: the same pair for the chunks complete so far (the
 * resume point for the next call with more bytes). */
int scan_chunked(const char* buf, size_t len, size_t max_body, size_t* encoded_len,
                 size_t* decoded_len);

/* Moves the chunk data of a body that scan_chunked accepted to the front of
 * buf (in place: the decoded form is never longer).  Returns decoded_len. */
size_t decode_chunked(char* buf, size_t encoded_len);

}  // namespace salvo

#endif
