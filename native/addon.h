/* Per-environment addon state (no process globals: the addon can be loaded in
 * several worker_threads, and twice in one process). */
#ifndef SALVO_ADDON_H
#define SALVO_ADDON_H

#include <napi.h>

#include "parser.h"

namespace salvo {

struct AddonData {
  ParserImpl impl;  // chosen once: CPU detection, or SALVO_PARSER=scalar
};

}  // namespace salvo

#endif
