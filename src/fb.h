/* fb.h - the daemon-wide context handed to every handler. */
#ifndef FB_FB_H
#define FB_FB_H
#include "core/compat.h"

enum fb_auth_mode { FB_AUTH_ENFORCE, FB_AUTH_SOFT, FB_AUTH_OFF };

struct db;
struct loop;
struct kms_keyring;
struct sigv4_key_cache;

struct fogbank {
	const char *data_dir;
	const char *host;
	int port;
	const char *default_region;
	enum fb_auth_mode auth;
	struct db *db;
	struct loop *loop;		  /* the one event loop (children, timers) */
	struct kms_keyring *kms;	  /* src/svc/kms: key material cache */
	struct sigv4_key_cache *sigcache; /* src/aws/sigv4 */
	int64_t started_ms;
};
#endif
