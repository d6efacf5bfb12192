/* Placeholder until the chunked decoder lands: every chunked body is refused. */
#include "chunked.h"

namespace salvo {

int scan_chunked(const char*, size_t, size_t, size_t*, size_t*) { return kChunkedError; }
size_t decode_chunked(char*, size_t) { return 0; }

}  // namespace salvo
