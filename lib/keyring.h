/*
 * keyring.h — a tool's key file, read again while it runs
 * (srdf-keygen(1) KEY ROTATION).
 *
 * A tool opens its --key-file once with keyring_open and asks
 * keyring_key() for the ring whenever it seals, signs, opens or
 * verifies: the newest key of the file as last read, the older ones
 * through ->older (wagon.h).  keyring_reload() reads the file again: on
 * SIGHUP (the signers then use the new newest key) and, through
 * keyring_find(), when a wagon, a request or an answer names a key id
 * the ring lacks — at most once per KEYRING_RELOAD_MS (the first
 * time at once), so that a peer
 * sending under a foreign key cannot make the tool read the file in a
 * loop.
 *
 * Memory: a ring once returned stays valid until keyring_close: another
 * thread may be signing with it while the file is read again.  Rings
 * replaced by a reload are kept (wiped only at keyring_close); a tool
 * reloads a handful of times in its life, each ring is a few pages.
 *
 * Threads: keyring_key, keyring_find and keyring_reload may be called
 * from any thread; a reload is serialized by a mutex, the current ring
 * is one atomic pointer.
 *
 * Error handling: keyring_open returns NULL with the reason in err (as
 * key_load).  keyring_reload returns 1 when the file held another ring
 * (now current), 0 when it held the same keys, -1 with the reason in err
 * when it cannot be read or is refused: the current ring stays.
 */
#ifndef SRDF_KEYRING_H
#define SRDF_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "wagon.h"

#define KEYRING_RELOAD_MS 5000

struct keyring;

struct keyring *keyring_open(const char *path, char *err, size_t errlen);
const struct srdf_key *keyring_key(struct keyring *kr);
int keyring_reload(struct keyring *kr, char *err, size_t errlen);
/* The key of the ring with this id, reading the file again first when
 * the ring lacks it and no such read happened in the last
 * KEYRING_RELOAD_MS; NULL when the file does not hold it either. */
const struct srdf_key *keyring_find(struct keyring *kr, const uint8_t id[8]);
const char *keyring_path(const struct keyring *kr);
void keyring_close(struct keyring *kr);

#endif
