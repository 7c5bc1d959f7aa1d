/*
 * hashgate.h — the whole public API of libhashgate in one include.
 */
#ifndef HASHGATE_HASHGATE_H
#define HASHGATE_HASHGATE_H

#define HG_VERSION_STRING "0.1.0"

#include "hashgate/status.h"
#include "hashgate/pdq.h"
#include "hashgate/image.h"
#include "hashgate/hash.h"
#include "hashgate/vpdq.h"
#include "hashgate/video.h"
#include "hashgate/index.h"

#endif
